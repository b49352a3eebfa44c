package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestBrowserPhoneBoardTabsAndUndo, at 390x844: the board fits the width and shows one stage at a time, chosen
// by tabs (click and arrow keys); a card moved out of new and then undone is back in new with no first contact
// (in the database), and focus stays on the moved card each time. The enquiry list fits the width too, its
// rows as cards with the status and assignee on screen.
func TestBrowserPhoneBoardTabsAndUndo(t *testing.T) {
	t.Parallel() // its own database, server (and browser): independent of the other tests
	h := newHarness(t, nil)
	h.addStaff("coord@clinic.example", "coordinator")
	var ref string
	for range 8 {
		ref = h.submit(t, "anxiety")
	}
	base := h.listen()
	ctx := newBrowser(t)
	do(t, ctx, chromedp.EmulateViewport(390, 844))
	do(t, ctx, chromedp.Navigate(base+"/board"), chromedp.WaitVisible(chromedp.ID("email")))
	browserSignIn(t, ctx, h, "coord@clinic.example")
	do(t, ctx, chromedp.WaitReady(chromedp.CSS(`[data-board-tabs][data-tabs-ready]`)))

	fits := func(page string) {
		t.Helper()
		if w := run(t, ctx, chromedp.Evaluate[int](`document.scrollingElement.scrollWidth`)); w > 390 {
			t.Errorf("%s is %dpx wide in a 390px window", page, w)
		}
	}
	shown := func() string {
		t.Helper()
		return run(t, ctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll('[data-board] .column')).filter(c => c.offsetParent !== null).map(c => c.dataset.status).join(",")`))
	}
	selected := func() string {
		t.Helper()
		return run(t, ctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll('[role=tablist] [role=tab][aria-selected=true]')).map(t => t.dataset.stage).join(",")`))
	}
	fits("/board")
	if s := shown(); s != "new" {
		t.Fatalf("stages shown on a phone: %q, want new only", s)
	}
	if s := selected(); s != "new" {
		t.Fatalf("selected tab %q, want new", s)
	}
	if tab := run(t, ctx, chromedp.Text(chromedp.ID("tab-new"))); !strings.Contains(tab, "New") || !strings.Contains(tab, "8") {
		t.Errorf("the New tab reads %q, want its count", tab)
	}
	// The board is as tall as one stage: not the six stacked.
	height := run(t, ctx, chromedp.Evaluate[float64](`document.querySelector('[data-board]').getBoundingClientRect().height`))
	newHeight := run(t, ctx, chromedp.Evaluate[float64](`document.getElementById('stage-new').getBoundingClientRect().height`))
	if height > newHeight+50 {
		t.Errorf("the board is %.0fpx tall, its one stage %.0fpx", height, newHeight)
	}
	// Tabs switch stages, by click and by arrow key.
	do(t, ctx, chromedp.Click(chromedp.ID("tab-contacted")))
	if s, sel := shown(), selected(); s != "contacted" || sel != "contacted" {
		t.Fatalf("after clicking Contacted: shown %q, selected %q", s, sel)
	}
	do(t, ctx, chromedp.KeyEvent(kb.ArrowRight))
	if s, sel := shown(), selected(); s != "screening" || sel != "screening" {
		t.Fatalf("after the right arrow: shown %q, selected %q", s, sel)
	}
	if f := run(t, ctx, chromedp.Evaluate[string](`document.activeElement.id`)); f != "tab-screening" {
		t.Errorf("focus on %q after the arrow key, want the Screening tab", f)
	}
	do(t, ctx, chromedp.Click(chromedp.ID("tab-new")))

	// Move the card out of new with its button.
	do(t, ctx, chromedp.Click(chromedp.CSS(`li.card[data-ref="`+ref+`"] form.move button`)))
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`#stage-contacted li.card[data-ref="`+ref+`"][data-moved]`)))
	if n := h.count(`SELECT count(*) FROM enquiries WHERE reference = ? AND status = 'contacted' AND first_contacted_at IS NOT NULL`, ref); n != 1 {
		t.Fatal("the move was not stored with a first contact")
	}
	focused := func(when string) {
		t.Helper()
		if f := run(t, ctx, chromedp.Evaluate[string](`document.activeElement.dataset.ref || document.activeElement.tagName`)); f != ref {
			t.Errorf("%s, focus is on %q, want the moved card", when, f)
		}
	}
	focused("after the move")
	if s := shown(); s != "contacted" {
		t.Errorf("after the move the phone shows %q, want the stage the card moved to", s)
	}
	notice := run(t, ctx, chromedp.Text(chromedp.CSS(`[data-undo-notice][role=status]`)))
	if !strings.Contains(notice, "Moved "+ref+" to Contacted.") || !strings.Contains(notice, "Undo") {
		t.Errorf("the notice reads %q", notice)
	}
	fits("/board after a move")

	do(t, ctx, chromedp.Click(chromedp.CSS(`[data-undo-notice] button.undo`)))
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`#stage-new li.card[data-ref="`+ref+`"][data-moved]`)))
	if n := h.count(`SELECT count(*) FROM enquiries WHERE reference = ? AND status = 'new' AND first_contacted_at IS NULL`, ref); n != 1 {
		t.Fatal("the undo did not restore new and clear the first contact in the database")
	}
	focused("after the undo")
	if notice := run(t, ctx, chromedp.Text(chromedp.CSS(`[data-undo-notice]`))); !strings.Contains(notice, "Undone: "+ref+" is back in New.") {
		t.Errorf("the notice after the undo reads %q", notice)
	}

	// The list: no sideways scroll, status and assignee on screen, filters folded.
	do(t, ctx, chromedp.Navigate(base+"/enquiries"), chromedp.WaitVisible(chromedp.CSS(`table.enquiries`)))
	fits("/enquiries")
	right := run(t, ctx, chromedp.Evaluate[float64](`Math.max(...Array.from(document.querySelectorAll('td[data-label=Status], td[data-label=Assignee]')).map(td => td.getBoundingClientRect().right))`))
	if right > 390 {
		t.Errorf("the status or assignee ends at %.0fpx in a 390px window", right)
	}
	if open := run(t, ctx, chromedp.Evaluate[bool](`document.querySelector('[data-filters-fold]').open`)); open {
		t.Error("the filters are open on a phone")
	}
	do(t, ctx, chromedp.Navigate(base+"/enquiries?treatment=anxiety&overdue=true"), chromedp.WaitVisible(chromedp.CSS(`table.enquiries, p.empty`)))
	if s := run(t, ctx, chromedp.Text(chromedp.CSS(`[data-filters-fold] > summary`))); s != "Search and filters (2 active)" {
		t.Errorf("the folded filters read %q", s)
	}
}
