package crm_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/crm/mailer"
	"github.com/frontdesk/frontdesk/intake"
)

// subject stores two enquiries from one address (in two letter cases), worked by staff, and one from another.
func subject(t *testing.T, w *world) (first, second, other string) {
	t.Helper()
	ctx := context.Background()
	submit := func(email, msg string) string {
		rec, err := w.intake.Submit(ctx, intake.Submission{Name: "Sam Subject", Email: email, Phone: "07700 900777",
			Treatment: "adhd", Message: msg, DateOfBirth: "1985-05-05", UTMCampaign: "spring", Consent: true}, "")
		if err != nil {
			t.Fatal(err)
		}
		return rec.Reference
	}
	first = submit("sam.subject@example.org", "first message")
	other = submit("someone.else@example.org", "not theirs")
	second = submit("Sam.Subject@Example.ORG", "second message")
	if _, err := w.ws.Assign(ctx, w.admin, first, w.clin.Email, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ws.AddNote(ctx, w.coord, first, "called back, left a message"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ws.Transition(ctx, w.admin, second, crm.StatusLost, "no reply after three calls", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ws.Detail(ctx, w.clin, first); err != nil { // a view by the clinician
		t.Fatal(err)
	}
	if _, err := w.ws.Get(ctx, w.coord, other); err != nil {
		t.Fatal(err)
	}
	return first, second, other
}

func TestSubjectAccessGathersEverythingOfOneAddress(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	first, second, other := subject(t, w)
	p := crm.NewPrivacy(w.db, w.db, nil, crm.PrivacyConfig{}, quiet)

	doc, err := p.SubjectAccess(ctx, w.admin, "  SAM.subject@example.org ")
	if err != nil {
		t.Fatal(err)
	}
	if doc.Email != "sam.subject@example.org" || doc.GeneratedAt.IsZero() || len(doc.Enquiries) != 2 ||
		doc.Enquiries[0].Reference != first || doc.Enquiries[1].Reference != second {
		t.Fatalf("document %+v", doc)
	}
	e := doc.Enquiries[0]
	if e.Name != "Sam Subject" || e.Email != "sam.subject@example.org" || e.Phone != "+447700900777" ||
		e.Message != "first message" || e.DateOfBirth != "1985-05-05" || e.UTMCampaign != "spring" ||
		e.ConsentVersion != intake.PrivacyNoticeVersion || e.ConsentAt.IsZero() || e.Status != crm.StatusNew ||
		e.Priority == "" || e.Assignee == nil || *e.Assignee != w.clin.Name {
		t.Errorf("first enquiry %+v", e)
	}
	if len(e.Notes) != 1 || e.Notes[0].Body != "called back, left a message" || e.Notes[0].Author == nil || *e.Notes[0].Author != w.coord.Name {
		t.Errorf("notes %+v", e.Notes)
	}
	kinds := func(es []crm.SubjectEvent) (out []string) {
		for _, v := range es {
			out = append(out, v.Kind)
		}
		return out
	}
	if k := kinds(e.Timeline); !slices.Contains(k, "created") || !slices.Contains(k, "assigned") || !slices.Contains(k, "note") {
		t.Errorf("timeline %v", k)
	}
	if len(e.Emails) == 0 || e.Emails[0].Kind != crm.MailConfirmation || e.Emails[0].To != "sam.subject@example.org" {
		t.Errorf("emails %+v", e.Emails)
	}
	for _, m := range e.Emails[1:] {
		if m.To != "clinic staff" {
			t.Errorf("a staff address is in the patient's document: %+v", m)
		}
	}
	var viewed bool
	for _, a := range e.Access {
		if a.Action == "view" && a.ActorEmail == w.clin.Email && a.ActorName == w.clin.Name && !a.At.IsZero() {
			viewed = true
		}
	}
	if !viewed {
		t.Errorf("the clinician's view is not in the access log: %+v", e.Access)
	}
	s := doc.Enquiries[1]
	if s.Status != crm.StatusLost || s.CloseReason != "no reply after three calls" {
		t.Errorf("second enquiry %+v", s)
	}
	var closed bool
	for _, v := range s.Timeline {
		closed = closed || v.Kind == "status" && v.To == crm.StatusLost && v.Reason == "no reply after three calls" && v.Actor != nil
	}
	if !closed {
		t.Errorf("the close is not in the timeline: %+v", s.Timeline)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"email":`, `"generated_at":`, `"enquiries":`, `"consent_at":`, `"consent_version":`,
		`"notes":`, `"timeline":`, `"emails":`, `"access":`, `"assignee":`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("the JSON has no %s", key)
		}
	}
	if strings.Contains(string(b), other) || strings.Contains(string(b), "not theirs") {
		t.Error("another patient's enquiry is in the document")
	}

	// The request itself is audited: who, which enquiries, never the address.
	entries, _, err := w.db.ListAudit(ctx, crm.AuditQuery{Action: "subject_access"})
	if err != nil || len(entries) != 1 {
		t.Fatalf("subject access entries %+v %v", entries, err)
	}
	a := entries[0]
	if a.Actor == nil || a.Actor.ID != w.admin.ID || !slices.Equal(a.Refs(), []string{first, second}) || a.Detail != "2 enquiries" ||
		strings.Contains(strings.ToLower(a.Detail), "subject@") {
		t.Errorf("entry %+v", a)
	}
}

func TestSubjectAccessRefusals(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	subject(t, w)
	p := crm.NewPrivacy(w.db, w.db, nil, crm.PrivacyConfig{}, quiet)
	for _, a := range []crm.Actor{w.coord, w.clin} {
		if _, err := p.SubjectAccess(ctx, a, "sam.subject@example.org"); !errors.Is(err, crm.ErrForbidden) {
			t.Errorf("%s: %v, want forbidden", a.Role, err)
		}
		if _, err := p.EraseEmail(ctx, a, "sam.subject@example.org"); !errors.Is(err, crm.ErrForbidden) {
			t.Errorf("%s erase: %v, want forbidden", a.Role, err)
		}
	}
	for _, bad := range []string{"", "   ", "sam", "sam@", "Sam <sam@example.org>"} {
		var ie crm.InputError
		if _, err := p.SubjectAccess(ctx, w.admin, bad); !errors.As(err, &ie) || ie["email"] == "" {
			t.Errorf("%q: %v, want an error naming email", bad, err)
		}
	}
	// An address nobody used: an empty document, not an error, and still audited.
	doc, err := p.SubjectAccess(ctx, w.admin, "nobody@example.org")
	if err != nil || doc.Enquiries == nil || len(doc.Enquiries) != 0 {
		t.Errorf("unknown address: %+v %v", doc, err)
	}
	if entries, _, _ := w.db.ListAudit(ctx, crm.AuditQuery{Action: "subject_access"}); len(entries) != 1 || entries[0].Detail != "0 enquiries" {
		t.Errorf("entries %+v", entries)
	}
}

func TestEraseEmailErasesEveryEnquiryOfTheAddress(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	first, second, other := subject(t, w)
	p := crm.NewPrivacy(w.db, w.db, nil, crm.PrivacyConfig{}, quiet)
	refs, err := p.EraseEmail(ctx, w.admin, "SAM.SUBJECT@example.org")
	if err != nil || !slices.Equal(refs, []string{first, second}) {
		t.Fatalf("EraseEmail: %v %v", refs, err)
	}
	for _, ref := range refs {
		if e, _ := w.db.GetEnquiry(ctx, ref); !e.Erased || e.Email != "" || e.Name != "(erased)" || e.Phone != "" {
			t.Errorf("%s: %+v", ref, e)
		}
	}
	if e, _ := w.db.GetEnquiry(ctx, other); e.Erased || e.Name != "Sam Subject" {
		t.Errorf("another address's enquiry was erased: %+v", e)
	}
	entries, _, _ := w.db.ListAudit(ctx, crm.AuditQuery{Action: "erase"})
	if len(entries) != 2 {
		t.Fatalf("erase entries %+v", entries)
	}
	for _, e := range entries {
		if e.Actor == nil || e.Actor.ID != w.admin.ID || !slices.Contains(refs, e.Reference) || strings.Contains(strings.ToLower(e.Detail), "subject") {
			t.Errorf("erase entry %+v", e)
		}
	}
	// Now nothing is held about the address; erasing it again finds nothing; a bad address names the field.
	if doc, err := p.SubjectAccess(ctx, w.admin, "sam.subject@example.org"); err != nil || len(doc.Enquiries) != 0 {
		t.Errorf("after erasure: %+v %v", doc, err)
	}
	if _, err := p.EraseEmail(ctx, w.admin, "sam.subject@example.org"); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("again: %v", err)
	}
	var ie crm.InputError
	if _, err := p.EraseEmail(ctx, w.admin, "not an address"); !errors.As(err, &ie) || ie["email"] == "" {
		t.Errorf("bad address: %v", err)
	}
	if err := p.EraseReference(ctx, w.admin, "ZZZZ-ZZZZ"); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("unknown reference: %v", err)
	}
}

func TestEraseThatCannotFinishSaysWhatIsDone(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	first, second, _ := subject(t, w)
	// The mail folder is a file: its copies cannot be listed, so they cannot be deleted.
	notAFolder := filepath.Join(t.TempDir(), "mail")
	if err := os.WriteFile(notAFolder, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	p := crm.NewPrivacy(w.db, w.db, mailer.NewMailFolder(notAFolder), crm.PrivacyConfig{}, quiet)
	refs, err := p.EraseEmail(ctx, w.admin, "sam.subject@example.org")
	var unfinished *crm.UnfinishedError
	if !errors.As(err, &unfinished) || !slices.Equal(refs, []string{first, second}) {
		t.Fatalf("EraseEmail: %v %v, want the references and an UnfinishedError", refs, err)
	}
	for _, ref := range refs {
		if e, _ := w.db.GetEnquiry(ctx, ref); !e.Erased {
			t.Errorf("%s: the erasure itself must stand", ref)
		}
	}
	// A failure before anything is erased returns no references.
	if refs, err := p.EraseEmail(ctx, w.admin, "nobody@example.org"); refs != nil || errors.As(err, &unfinished) {
		t.Errorf("nothing erased: %v %v", refs, err)
	}
}

func TestSubjectAccessIncludesScreeningAnswers(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	sub, err := intake.DecodeJSON([]byte(`{"name":"Sam Subject","email":"sam@example.org","treatment":"depression",
		"consent":true,"screening":{"phq9":[0,1,2,3,0,1,2,3,1],"safety":{"liver_disease":true,"self_harm_thoughts":false}}}`))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := w.intake.Submit(ctx, sub, "")
	if err != nil {
		t.Fatal(err)
	}
	p := crm.NewPrivacy(w.db, w.db, nil, crm.PrivacyConfig{}, quiet)
	doc, err := p.SubjectAccess(ctx, w.admin, "sam@example.org")
	if err != nil || len(doc.Enquiries) != 1 || doc.Enquiries[0].Reference != rec.Reference {
		t.Fatalf("document %+v, %v", doc, err)
	}
	e := doc.Enquiries[0]
	if !slices.Equal(e.Flags, []string{"risk", "review"}) || len(e.Screening) != 2 {
		t.Fatalf("flags %v, screening %+v", e.Flags, e.Screening)
	}
	phq := e.Screening[0]
	if phq.Questionnaire != "phq9" || phq.Total == nil || *phq.Total != 13 || phq.Band != "moderate" ||
		len(phq.Answers) != 9 || phq.Answers[3].Answer != "Nearly every day" ||
		phq.Answers[0].Question != "Little interest or pleasure in doing things" || phq.Source != "enquiry" {
		t.Errorf("PHQ-9 in the document: %+v", phq)
	}
	safety := e.Screening[1]
	if safety.Questionnaire != "safety" || len(safety.Answers) != 2 || safety.Total != nil {
		t.Errorf("safety answers in the document: %+v", safety)
	}
	b, _ := json.Marshal(doc)
	if !strings.Contains(string(b), `"Do you have liver disease or liver problems?","answer":"Yes"`) {
		t.Errorf("the safety answer is not written out: %s", b)
	}
}
