package web

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/crm/report"
)

// Charts are drawn on the server as SVG, put inline in the page: no JavaScript, nothing to load, and the
// Content-Security-Policy (no inline styles) is kept by using SVG presentation attributes (fill=, stroke=)
// only. Each has a title and a description for screen readers (role="img" with aria-labelledby), axis labels,
// and its values written on it; the table beside each chart has every figure. Colours keep a contrast of at
// least 4.5:1 against white (the chart box stays white in the dark colour scheme).
//
// Every chart is a list of rows (a stage, a week), one bar or a few per row, each value written after its bar:
// a longer range makes a taller chart, never narrower bars or labels on top of each other. A chart scales to
// the width of its box (viewBox, width 100%), and is drawn twice, for a phone and for a wider screen, the
// stylesheet showing one: a single drawing scaled from 720 units to a phone would shrink its text to 6 px.

// chartColours are the series colours, in order.
var chartColours = []string{"#245b6b", "#a04a00", "#1f6f43", "#6a3d9a", "#b3261e", "#1f4e9c", "#5f6b7a"}

const (
	chartInk   = "#1d2733"
	chartMuted = "#55606e"
	chartGrid  = "#d5dbe3"
	chartFont  = `font-family="system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"`
)

// svgChart builds SVG as text; every piece of text put in it goes through esc.
type svgChart struct {
	b strings.Builder
}

func esc(s string) string { return template.HTMLEscapeString(s) }

// num writes a coordinate with at most one decimal.
func num(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

func (c *svgChart) printf(format string, args ...any) { fmt.Fprintf(&c.b, format, args...) }

func (c *svgChart) text(x, y float64, anchor, s string, extra string) {
	c.printf(`<text x="%s" y="%s" text-anchor="%s"%s>%s</text>`, num(x), num(y), anchor, extra, esc(s))
}

func (c *svgChart) rect(x, y, w, h float64, fill, tip string) {
	c.printf(`<rect x="%s" y="%s" width="%s" height="%s" fill="%s" stroke="#ffffff" stroke-width="1">`, num(x), num(y), num(max(w, 0)), num(max(h, 0)), fill)
	if tip != "" {
		c.printf(`<title>%s</title>`, esc(tip))
	}
	c.b.WriteString(`</rect>`)
}

func (c *svgChart) line(x1, y1, x2, y2 float64, stroke string, extra string) {
	c.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"%s/>`, num(x1), num(y1), num(x2), num(y2), stroke, extra)
}

// axis is a value axis from 0 to top in steps of step: a step of 1, 2 or 5 times a power of ten (at least 1),
// the smallest that reaches v in at most steps steps (so that its labels have room).
type axis struct{ top, step float64 }

func niceAxis(v float64, steps int) axis {
	steps = max(steps, 1)
	for p := 1.0; ; p *= 10 {
		for _, m := range []float64{1, 2, 5} {
			if step := m * p; step*float64(steps) >= v {
				return axis{top: max(step, math.Ceil(v/step)*step), step: step}
			}
		}
	}
}

// ticks are the axis's values from 0 to top.
func (a axis) ticks() []float64 {
	var out []float64
	for v := 0.0; v <= a.top+a.step/2; v += a.step {
		out = append(out, v)
	}
	return out
}

func tickLabel(v float64) string {
	if v == math.Trunc(v) {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// weekLabel shows a week's Monday briefly: "2 Nov".
func weekLabel(week string) string {
	t, err := time.Parse("2006-01-02", week)
	if err != nil {
		return week
	}
	return t.Format("2 Jan")
}

// rangeLabel is "1 Nov 2026 to 30 Nov 2026".
func rangeLabel(r *report.Report) string {
	from, err1 := time.Parse("2006-01-02", r.From)
	to, err2 := time.Parse("2006-01-02", r.To)
	if err1 != nil || err2 != nil {
		return r.From + " to " + r.To
	}
	return from.Format("2 Jan 2006") + " to " + to.Format("2 Jan 2006")
}

func pct(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v*100, 'f', 0, 64) + "%"
}

// chartSize is one of the two drawings of a chart: its width in user units and its text size. The stylesheet
// shows the narrow drawing below 48rem and caps each at its own width, so text is never drawn smaller than
// about 12.5 px on a screen of 360 px or more.
type chartSize struct {
	class string
	width float64
	font  float64
}

var chartSizes = []chartSize{{"chart-narrow", 340, 14}, {"chart-wide", 720, 13}}

// textWidth estimates the drawn width of s at font size f, generously (system-ui averages about half an em a
// character; digits and capitals more), so reserved space is never too small.
func textWidth(s string, f float64) float64 { return float64(len([]rune(s))) * f * 0.62 }

// barPart is a piece of a bar: stacked bars have several.
type barPart struct {
	value  float64
	colour string
	tip    string
}

// chartBar is one bar of a row and the text written after it.
type chartBar struct {
	parts []barPart
	value string
}

// chartRow is a stage or a week: its label, its bars, or a note when it has none.
type chartRow struct {
	label string
	bars  []chartBar
	note  string
}

type legendItem struct {
	colour, label string
	dashed        bool
}

// rowChart is a chart of rows of horizontal bars over one value axis.
type rowChart struct {
	id, title, desc string
	rowsTitle       string // over the row labels: "Week commencing"
	axisTitle       string // under the value axis
	legend          []legendItem
	rows            []chartRow
	target          float64 // a dashed line across the rows at this value, when above 0
}

// html is the chart's caption and its two drawings.
func (rc rowChart) html() template.HTML {
	var b strings.Builder
	b.WriteString(`<figcaption>` + esc(rc.title) + `</figcaption>`)
	for _, size := range chartSizes {
		b.WriteString(rc.draw(size))
	}
	return template.HTML(b.String()) // every text in it was escaped by esc
}

func (rc rowChart) draw(size chartSize) string {
	f, width := size.font, size.width
	id := rc.id
	if size.class == "chart-narrow" {
		id += "-narrow"
	}
	var body svgChart
	line := f + 8 // the height of a line of text
	y := 0.0
	// The legend, wrapped to the width.
	x := 0.0
	for i, l := range rc.legend {
		w := 20 + textWidth(l.label, f) + 16
		if l.dashed {
			w += 16
		}
		if i > 0 && x+w > width {
			x, y = 0, y+line
		}
		if l.dashed {
			body.line(x, y+f/2+2, x+30, y+f/2+2, l.colour, ` stroke-width="2" stroke-dasharray="6 4"`)
			body.text(x+36, y+f, "start", l.label, "")
		} else {
			body.rect(x, y+2, 14, 14, l.colour, "")
			body.text(x+20, y+f, "start", l.label, "")
		}
		x += w
	}
	if len(rc.legend) > 0 {
		y += line + 6
	}
	// Room for the row labels on the left and the values on the right.
	labelW, valueW := 0.0, 0.0
	most := 0.0
	for _, r := range rc.rows {
		labelW = max(labelW, textWidth(r.label, f))
		for _, bar := range r.bars {
			valueW = max(valueW, textWidth(bar.value, f))
			total := 0.0
			for _, p := range bar.parts {
				total += p.value
			}
			most = max(most, total)
		}
		if r.note != "" {
			valueW = max(valueW, textWidth(r.note, f)-width*0.3)
		}
	}
	most = max(most, rc.target, 1)
	x0 := min(labelW+10, width*0.45)
	x1 := width - min(valueW+10, width*0.35)
	if rc.rowsTitle != "" {
		body.text(0, y+f, "start", rc.rowsTitle, ` fill="`+chartMuted+`"`)
		y += line
	}
	ax := niceAxis(most, int(max((x1-x0)/(textWidth(tickLabel(niceAxis(most, 6).top), f)+12), 1)))
	xOf := func(v float64) float64 { return x0 + v/ax.top*(x1-x0) }
	top := y
	barH := f + 4
	rowHeight := func(r chartRow) float64 {
		n := max(len(r.bars), 1)
		return float64(n)*barH + float64(n-1)*3
	}
	bottom := top - 6
	for _, r := range rc.rows {
		bottom += rowHeight(r) + 10
	}
	// The grid first, so that bars and text are drawn over it.
	for _, v := range ax.ticks() {
		body.line(xOf(v), top-4, xOf(v), bottom, chartGrid, "")
		body.text(xOf(v), bottom+f+4, "middle", tickLabel(v), ` fill="`+chartMuted+`"`)
	}
	for _, r := range rc.rows {
		h := rowHeight(r)
		body.text(x0-8, y+h/2+f*0.35+1, "end", r.label, "")
		if len(r.bars) == 0 {
			body.text(x0+4, y+h/2+f*0.35+1, "start", r.note, ` fill="`+chartMuted+`"`)
		}
		for i, bar := range r.bars {
			by := y + float64(i)*(barH+3)
			acc := 0.0
			for _, p := range bar.parts {
				body.rect(xOf(acc), by, xOf(acc+p.value)-xOf(acc), barH, p.colour, p.tip)
				acc += p.value
			}
			body.text(xOf(acc)+5, by+barH/2+f*0.35, "start", bar.value, "")
		}
		y += h + 10
	}
	body.line(x0, top-4, x0, bottom, chartInk, "")
	if rc.target > 0 {
		body.line(xOf(rc.target), top-4, xOf(rc.target), bottom, targetColour, ` stroke-width="2" stroke-dasharray="6 4"`)
	}
	height := bottom + f + 4 + line
	if rc.axisTitle != "" {
		body.text(width/2, height+f, "middle", rc.axisTitle, "")
		height += line + 4
	}
	var c svgChart
	c.printf(`<svg xmlns="http://www.w3.org/2000/svg" class="chart %s" viewBox="0 0 %s %s" width="100%%" role="img" aria-labelledby="%s-title %s-desc" %s font-size="%s" fill="%s">`,
		size.class, num(width), num(height), id, id, chartFont, num(f), chartInk)
	c.printf(`<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, id, esc(rc.title), id, esc(rc.desc))
	c.b.WriteString(body.b.String())
	c.b.WriteString(`</svg>`)
	return c.b.String()
}

// targetColour draws a target line.
const targetColour = "#b3261e"

// funnelChart draws a bar per stage: how many enquiries reached it, and the conversion from the stage before.
func funnelChart(r *report.Report) template.HTML {
	rc := rowChart{id: "chart-funnel", title: "Funnel: enquiries reaching each stage",
		axisTitle: "Enquiries (share of the stage before)"}
	var desc []string
	for _, s := range r.Funnel.Stages {
		d, v := fmt.Sprintf("%s %d", s.Label, s.Reached), strconv.Itoa(s.Reached)
		if s.Conversion != nil {
			d += " (" + pct(s.Conversion) + " of the stage before)"
			v += " (" + pct(s.Conversion) + ")"
		}
		desc = append(desc, d)
		rc.rows = append(rc.rows, chartRow{label: s.Label, bars: []chartBar{{value: v, parts: []barPart{
			{float64(s.Reached), chartColours[0], fmt.Sprintf("%s: %d", s.Label, s.Reached)}}}}})
	}
	rc.desc = fmt.Sprintf("Enquiries received %s, %d in all. %s.", rangeLabel(r), r.Enquiries, strings.Join(desc, "; "))
	return rc.html()
}

// firstContactChart draws, per week of arrival, the median and 90th percentile hours to first contact as a pair
// of bars, with the target as a dashed line.
func firstContactChart(r *report.Report) template.HTML {
	target := r.FirstContact.TargetHours
	rc := rowChart{id: "chart-first-contact", title: "Hours to first contact, by week of arrival",
		rowsTitle: "Week commencing", axisTitle: "Hours to first contact", target: target,
		legend: []legendItem{{chartColours[0], "Median", false}, {chartColours[1], "90th percentile", false},
			{targetColour, "Target (" + tickLabel(target) + " h)", true}}}
	var desc []string
	for _, w := range r.FirstContact.Weeks {
		row := chartRow{label: weekLabel(w.Week)}
		if w.MedianHours == nil {
			desc = append(desc, fmt.Sprintf("week of %s: none contacted", weekLabel(w.Week)))
			row.note = "none contacted"
		} else {
			desc = append(desc, fmt.Sprintf("week of %s: median %.1f hours, 90th percentile %.1f hours",
				weekLabel(w.Week), *w.MedianHours, *w.P90Hours))
			for j, v := range []float64{*w.MedianHours, *w.P90Hours} {
				name := []string{"median", "90th percentile"}[j]
				row.bars = append(row.bars, chartBar{value: strconv.FormatFloat(v, 'f', 1, 64), parts: []barPart{
					{v, chartColours[j], fmt.Sprintf("Week of %s, %s: %.1f hours", weekLabel(w.Week), name, v)}}})
			}
		}
		rc.rows = append(rc.rows, row)
	}
	rc.desc = fmt.Sprintf("Median and 90th percentile hours from arrival to first contact, %s; the target is %s hours. %s.",
		rangeLabel(r), tickLabel(target), strings.Join(desc, "; "))
	return rc.html()
}

// treatmentChart draws the enquiries of each week as a bar stacked by treatment, with the week's total after it.
func treatmentChart(r *report.Report) template.HTML {
	b := r.Treatments
	rc := rowChart{id: "chart-treatments", title: "Enquiries per week, by treatment",
		rowsTitle: "Week commencing", axisTitle: "Number of enquiries"}
	for i, k := range b.Keys {
		rc.legend = append(rc.legend, legendItem{chartColours[i%len(chartColours)], k.Label, false})
	}
	var desc []string
	for _, w := range b.Weeks {
		var parts []string
		bar := chartBar{value: strconv.Itoa(w.Total)}
		for i, n := range w.Counts {
			if n > 0 {
				parts = append(parts, fmt.Sprintf("%s %d", b.Keys[i].Label, n))
				bar.parts = append(bar.parts, barPart{float64(n), chartColours[i%len(chartColours)],
					fmt.Sprintf("Week of %s, %s: %d", weekLabel(w.Week), b.Keys[i].Label, n)})
			}
		}
		d := fmt.Sprintf("week of %s: %d", weekLabel(w.Week), w.Total)
		if len(parts) > 0 {
			d += " (" + strings.Join(parts, ", ") + ")"
		}
		desc = append(desc, d)
		rc.rows = append(rc.rows, chartRow{label: weekLabel(w.Week), bars: []chartBar{bar}})
	}
	rc.desc = fmt.Sprintf("Enquiries received each week, %s, stacked by treatment. %s.", rangeLabel(r), strings.Join(desc, "; "))
	return rc.html()
}
