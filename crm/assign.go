package crm

import "time"

// Candidate is a clinician who could take a new enquiry.
type Candidate struct {
	StaffID int64
	// Open is how many active enquiries the clinician has.
	Open int
	// LastAssignedAt is when they were last given an enquiry (zero if never).
	LastAssignedAt time.Time
}

// ChooseAssignee picks, among active clinicians whose treatments include the enquiry's, the one with the fewest
// open enquiries; ties go to the one assigned least recently (never first), then to the lowest ID so the choice
// is deterministic. It returns false when there is nobody.
func ChooseAssignee(cands []Candidate) (int64, bool) {
	best := -1
	for i, c := range cands {
		if best < 0 {
			best = i
			continue
		}
		b := cands[best]
		switch {
		case c.Open != b.Open:
			if c.Open < b.Open {
				best = i
			}
		case !c.LastAssignedAt.Equal(b.LastAssignedAt):
			if c.LastAssignedAt.Before(b.LastAssignedAt) {
				best = i
			}
		case c.StaffID < b.StaffID:
			best = i
		}
	}
	if best < 0 {
		return 0, false
	}
	return cands[best].StaffID, true
}
