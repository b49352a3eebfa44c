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
// least 4.5:1 against white.

// chartColours are the series colours, in order.
var chartColours = []string{"#245b6b", "#a04a00", "#1f6f43", "#6a3d9a", "#b3261e", "#1f4e9c", "#5f6b7a"}

const (
	chartInk   = "#1d2733"
	chartMuted = "#55606e"
	chartGrid  = "#d5dbe3"
	chartFont  = `font-family="system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"`
)

// svgChart builds one SVG drawing as text; every piece of text put in it goes through esc.
type svgChart struct {
	b  strings.Builder
	id string
}

func esc(s string) string { return template.HTMLEscapeString(s) }

// num writes a coordinate with at most one decimal.
func num(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

func (c *svgChart) printf(format string, args ...any) { fmt.Fprintf(&c.b, format, args...) }

// start opens the drawing with its accessible name (title) and description.
func (c *svgChart) start(width, height int, title, desc string) {
	c.printf(`<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-labelledby="%s-title %s-desc" %s font-size="13" fill="%s">`,
		width, height, width, height, c.id, c.id, chartFont, chartInk)
	c.printf(`<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, c.id, esc(title), c.id, esc(desc))
	c.printf(`<text x="0" y="18" font-size="16" font-weight="700">%s</text>`, esc(title))
}

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

func (c *svgChart) html() template.HTML {
	c.b.WriteString(`</svg>`)
	return template.HTML(c.b.String()) // every text in it was escaped by esc
}

// axis is a value axis from 0 to top in steps of step: a step of 1, 2 or 5 times a power of ten (at least 1),
// the smallest that reaches v in at most six steps.
type axis struct{ top, step float64 }

func niceAxis(v float64) axis {
	step := 1.0
	for p := 1.0; ; p *= 10 {
		for _, m := range []float64{1, 2, 5} {
			if m*p*6 >= v {
				step = m * p
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

// funnelChart draws a horizontal bar per stage: how many enquiries reached it, and the conversion from the
// stage before.
func funnelChart(r *report.Report) template.HTML {
	const width, left, barMax, rowH, barH, top = 720, 170, 380, 34, 24, 40
	stages := r.Funnel.Stages
	height := top + rowH*len(stages) + 50
	c := &svgChart{id: "chart-funnel"}
	var desc []string
	for _, s := range stages {
		d := fmt.Sprintf("%s %d", s.Label, s.Reached)
		if s.Conversion != nil {
			d += " (" + pct(s.Conversion) + " of the stage before)"
		}
		desc = append(desc, d)
	}
	c.start(width, height, "Funnel: enquiries reaching each stage",
		fmt.Sprintf("Enquiries received %s, %d in all. %s.", rangeLabel(r), r.Enquiries, strings.Join(desc, "; ")))
	most := 1
	for _, s := range stages {
		most = max(most, s.Reached)
	}
	ax := niceAxis(float64(most))
	scale := ax.top
	axisY := float64(top + rowH*len(stages))
	for _, v := range ax.ticks() {
		x := left + v/scale*barMax
		c.line(x, top-4, x, axisY, chartGrid, "")
		c.text(x, axisY+16, "middle", tickLabel(v), ` fill="`+chartMuted+`" font-size="12"`)
	}
	c.text(left+barMax/2, axisY+36, "middle", "Number of enquiries", "")
	for i, s := range stages {
		y := float64(top + i*rowH)
		w := float64(s.Reached) / scale * barMax
		c.text(left-8, y+barH/2+5, "end", s.Label, "")
		c.rect(left, y, w, barH, chartColours[0], fmt.Sprintf("%s: %d", s.Label, s.Reached))
		v := strconv.Itoa(s.Reached)
		if s.Conversion != nil {
			v += " · " + pct(s.Conversion) + " of the stage before"
		}
		c.text(left+w+6, y+barH/2+5, "start", v, "")
	}
	c.line(left, top-4, left, axisY, chartInk, "")
	return c.html()
}

// firstContactChart draws, per week of arrival, the median and 90th percentile hours to first contact as
// paired bars, with the target as a dashed line.
func firstContactChart(r *report.Report) template.HTML {
	weeks := r.FirstContact.Weeks
	const height, x0, y0, y1 = 340, 64, 70, 270
	width := max(720, x0+20+len(weeks)*56)
	x1 := float64(width - 16)
	c := &svgChart{id: "chart-first-contact"}
	target := r.FirstContact.TargetHours
	var desc []string
	most := target
	for _, w := range weeks {
		if w.MedianHours != nil {
			desc = append(desc, fmt.Sprintf("week of %s: median %.1f hours, 90th percentile %.1f hours",
				weekLabel(w.Week), *w.MedianHours, *w.P90Hours))
			most = max(most, *w.P90Hours)
		} else {
			desc = append(desc, fmt.Sprintf("week of %s: none contacted", weekLabel(w.Week)))
		}
	}
	c.start(width, height, "Hours to first contact, by week of arrival",
		fmt.Sprintf("Median and 90th percentile hours from arrival to first contact, %s; the target is %s hours. %s.",
			rangeLabel(r), tickLabel(target), strings.Join(desc, "; ")))
	legend := []struct{ colour, label string }{{chartColours[0], "Median"}, {chartColours[1], "90th percentile"}}
	for i, l := range legend {
		x := float64(x0 + i*150)
		c.rect(x, 34, 14, 14, l.colour, "")
		c.text(x+20, 46, "start", l.label, "")
	}
	c.line(float64(x0+300), 41, float64(x0+330), 41, "#b3261e", ` stroke-width="2" stroke-dasharray="6 4"`)
	c.text(float64(x0+336), 46, "start", "Target ("+tickLabel(target)+" h)", "")

	ax := niceAxis(most)
	scale := ax.top
	yOf := func(v float64) float64 { return y1 - v/scale*(y1-y0) }
	for _, v := range ax.ticks() {
		c.line(x0, yOf(v), x1, yOf(v), chartGrid, "")
		c.text(x0-6, yOf(v)+4, "end", tickLabel(v), ` fill="`+chartMuted+`" font-size="12"`)
	}
	c.text(16, (y0+y1)/2, "middle", "Hours to first contact", fmt.Sprintf(` transform="rotate(-90 16 %d)"`, (y0+y1)/2))
	slot := (x1 - x0) / float64(max(len(weeks), 1))
	bar := min(slot*0.36, 28)
	for i, w := range weeks {
		cx := x0 + slot*(float64(i)+0.5)
		c.text(cx, y1+18, "middle", weekLabel(w.Week), "")
		if w.MedianHours == nil {
			c.text(cx, y1-6, "middle", "none", ` fill="`+chartMuted+`" font-size="11"`)
			continue
		}
		for j, v := range []float64{*w.MedianHours, *w.P90Hours} {
			x := cx - bar + float64(j)*bar
			label := []string{"median", "90th percentile"}[j]
			c.rect(x, yOf(v), bar, y1-yOf(v), chartColours[j], fmt.Sprintf("Week of %s, %s: %.1f hours", weekLabel(w.Week), label, v))
			c.text(x+bar/2, yOf(v)-4, "middle", strconv.FormatFloat(v, 'f', 1, 64), ` font-size="11"`)
		}
	}
	c.line(x0, yOf(target), x1, yOf(target), "#b3261e", ` stroke-width="2" stroke-dasharray="6 4"`)
	c.line(x0, y1, x1, y1, chartInk, "")
	c.text((x0+x1)/2, y1+44, "middle", "Week commencing", "")
	return c.html()
}

// treatmentChart draws the enquiries of each week as a bar stacked by treatment, with the week's total on top.
func treatmentChart(r *report.Report) template.HTML {
	b := r.Treatments
	const height, x0, y0, y1 = 360, 56, 90, 290
	width := max(720, x0+20+len(b.Weeks)*48)
	x1 := float64(width - 16)
	c := &svgChart{id: "chart-treatments"}
	var desc []string
	most := 1
	for _, w := range b.Weeks {
		var parts []string
		for i, n := range w.Counts {
			if n > 0 {
				parts = append(parts, fmt.Sprintf("%s %d", b.Keys[i].Label, n))
			}
		}
		d := fmt.Sprintf("week of %s: %d", weekLabel(w.Week), w.Total)
		if len(parts) > 0 {
			d += " (" + strings.Join(parts, ", ") + ")"
		}
		desc = append(desc, d)
		most = max(most, w.Total)
	}
	c.start(width, height, "Enquiries per week, by treatment",
		fmt.Sprintf("Enquiries received each week, %s, stacked by treatment. %s.", rangeLabel(r), strings.Join(desc, "; ")))
	for i, k := range b.Keys {
		x := float64(x0 + (i%4)*160)
		y := float64(34 + (i/4)*20)
		c.rect(x, y, 14, 14, chartColours[i%len(chartColours)], "")
		c.text(x+20, y+12, "start", k.Label, "")
	}
	ax := niceAxis(float64(most))
	scale := ax.top
	yOf := func(v float64) float64 { return y1 - v/scale*(y1-y0) }
	for _, v := range ax.ticks() {
		c.line(x0, yOf(v), x1, yOf(v), chartGrid, "")
		c.text(x0-6, yOf(v)+4, "end", tickLabel(v), ` fill="`+chartMuted+`" font-size="12"`)
	}
	c.text(16, (y0+y1)/2, "middle", "Enquiries", fmt.Sprintf(` transform="rotate(-90 16 %d)"`, (y0+y1)/2))
	slot := (x1 - x0) / float64(max(len(b.Weeks), 1))
	bar := min(slot*0.6, 40)
	for i, w := range b.Weeks {
		cx := x0 + slot*(float64(i)+0.5)
		c.text(cx, y1+18, "middle", weekLabel(w.Week), "")
		acc := 0
		for k, n := range w.Counts {
			if n == 0 {
				continue
			}
			c.rect(cx-bar/2, yOf(float64(acc+n)), bar, yOf(float64(acc))-yOf(float64(acc+n)),
				chartColours[k%len(chartColours)], fmt.Sprintf("Week of %s, %s: %d", weekLabel(w.Week), b.Keys[k].Label, n))
			acc += n
		}
		c.text(cx, yOf(float64(w.Total))-4, "middle", strconv.Itoa(w.Total), ` font-size="11"`)
	}
	c.line(x0, y1, x1, y1, chartInk, "")
	c.text((x0+x1)/2, y1+44, "middle", "Week commencing", "")
	return c.html()
}
