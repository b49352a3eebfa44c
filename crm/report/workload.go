package report

import (
	"context"
	"fmt"
	"slices"

	"github.com/frontdesk/frontdesk/crm"
)

// workload fills r.Workload with the open enquiries per member of staff now.
func (s *Service) workload(ctx context.Context, r *Report) error {
	now := s.now()
	counts, err := s.store.Workload(ctx, s.hours.Cutoff(now, s.target))
	if err != nil {
		return fmt.Errorf("workload: %w", err)
	}
	staff, err := s.staff.ListStaff(ctx)
	if err != nil {
		return fmt.Errorf("workload: %w", err)
	}
	n := len(crm.ActiveStatuses)
	rows := map[int64]*WorkloadRow{}
	row := func(ref crm.StaffRef) *WorkloadRow {
		w := rows[ref.ID]
		if w == nil {
			w = &WorkloadRow{ByStatus: make([]int, n)}
			if ref.ID != 0 {
				w.Assignee = &Person{Name: ref.Name, Email: ref.Email}
			}
			rows[ref.ID] = w
		}
		return w
	}
	for _, st := range staff {
		if st.Role == crm.RoleClinician && !st.Disabled {
			row(crm.StaffRef{ID: st.ID, Name: st.Name, Email: st.Email})
		}
	}
	row(crm.StaffRef{}) // the unassigned
	wl := Workload{At: now.In(s.loc), Statuses: crm.ActiveStatuses, Total: WorkloadRow{ByStatus: make([]int, n)}}
	for _, c := range counts {
		k := rank(c.Status)
		if k < 0 {
			continue
		}
		w := row(c.Assignee)
		w.ByStatus[k] += c.Count
		w.Open += c.Count
		w.Overdue += c.Overdue
		wl.Total.ByStatus[k] += c.Count
		wl.Total.Open += c.Count
		wl.Total.Overdue += c.Overdue
	}
	for _, w := range rows {
		wl.Rows = append(wl.Rows, *w)
	}
	slices.SortFunc(wl.Rows, func(a, b WorkloadRow) int { return comparePeople(a.Assignee, b.Assignee) })
	r.Workload = wl
	return nil
}
