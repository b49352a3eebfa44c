package db

import (
	"context"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/crm/report"
)

// TestOKToLeaveMessageIsStoredReadExportedAndErased: the patient's answer to "may we leave a voicemail or text
// message?" is stored with the enquiry, read by the enquiry page and the lists, written to exports, and set back
// to no by an erasure, with the other contact details.
func TestOKToLeaveMessageIsStoredReadExportedAndErased(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	base := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	yes := reportEnquiry(t, d, base, func(e *crm.NewEnquiry) { e.OKToLeaveMessage = true })
	no := reportEnquiry(t, d, base.Add(time.Minute), nil)

	for ref, want := range map[string]bool{yes: true, no: false} {
		e, err := d.GetEnquiry(ctx, ref)
		if err != nil || e.OKToLeaveMessage != want {
			t.Errorf("GetEnquiry(%s).OKToLeaveMessage = %v, %v; want %v", ref, e.OKToLeaveMessage, err, want)
		}
	}
	page, err := d.ListEnquiries(ctx, crm.ListQuery{Oldest: true})
	if err != nil || len(page.Items) != 2 || !page.Items[0].OKToLeaveMessage || page.Items[1].OKToLeaveMessage {
		t.Errorf("ListEnquiries = %+v, %v", page.Items, err)
	}
	exported := func() map[string]bool {
		rows, err := d.ExportEnquiries(ctx, report.Query{})
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		got := map[string]bool{}
		var e crm.Enquiry
		for rows.Next() {
			if err := rows.Scan(&e); err != nil {
				t.Fatal(err)
			}
			got[e.Reference] = e.OKToLeaveMessage
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := exported(); !got[yes] || got[no] {
		t.Errorf("export read %v", got)
	}

	err = d.EraseEnquiries(ctx, []string{yes}, crm.System, base.Add(time.Hour), func(ref string) crm.AuditEntry {
		return crm.AuditEntry{At: base.Add(time.Hour), Action: "erase", References: []string{ref}}
	})
	if err != nil {
		t.Fatal(err)
	}
	if e, err := d.GetEnquiry(ctx, yes); err != nil || !e.Erased || e.OKToLeaveMessage {
		t.Errorf("after erasure: erased %v, ok_to_leave_message %v, %v", e.Erased, e.OKToLeaveMessage, err)
	}
	if got := exported(); got[yes] {
		t.Error("the export still says a message may be left for an erased enquiry")
	}
}
