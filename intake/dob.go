package intake

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DateParts is a date of birth as the HTML form asks it: day, month and year in three fields (the GOV.UK
// "memorable date" pattern), as typed. Check joins them into the YYYY-MM-DD of Submission.DateOfBirth; the JSON
// API sends date_of_birth itself.
type DateParts struct {
	Day, Month, Year string
}

// The parts of a date, as messages and field names (dob_day, dob_month, dob_year) call them.
const (
	PartDay   = "day"
	PartMonth = "month"
	PartYear  = "year"
)

// Empty reports whether no part was given: the date of birth is optional.
func (d DateParts) Empty() bool {
	return strings.TrimSpace(d.Day) == "" && strings.TrimSpace(d.Month) == "" && strings.TrimSpace(d.Year) == ""
}

// months are the month names a patient may type instead of a number ("March", "mar").
var months = map[string]int{}

func init() {
	for m := time.January; m <= time.December; m++ {
		name := strings.ToLower(m.String())
		months[name], months[name[:3]] = int(m), int(m)
	}
	months["sept"] = 9
}

// Check joins the parts into YYYY-MM-DD. When they do not make a date it returns instead a plain-English
// message naming the part that is wrong ("Date of birth must include a year") and the parts at fault (PartDay,
// PartMonth, PartYear), for the form to mark. It judges only the date itself: whether it is in the past and the
// patient old enough is Validator.Check's (the same rules as for date_of_birth).
func (d DateParts) Check() (date, problem string, faulty []string) {
	day, month, year := strings.TrimSpace(d.Day), strings.TrimSpace(d.Month), strings.TrimSpace(d.Year)
	var missing []string
	for _, p := range []struct{ part, v string }{{PartDay, day}, {PartMonth, month}, {PartYear, year}} {
		if p.v == "" {
			missing = append(missing, p.part)
		}
	}
	if len(missing) > 0 {
		return "", "Date of birth must include a " + strings.Join(missing, " and ") + ".", missing
	}
	dn, dayOK := number(day, 2)
	dayOK = dayOK && dn >= 1 && dn <= 31
	mn, monthOK := number(month, 2)
	monthOK = monthOK && mn >= 1 && mn <= 12
	if !monthOK {
		mn, monthOK = months[strings.ToLower(strings.TrimSuffix(month, "."))]
	}
	yn, yearOK := number(year, 4)
	yearOK = yearOK && len(year) == 4
	if !dayOK {
		faulty = append(faulty, PartDay)
		problem = "The day of your date of birth must be a number from 1 to 31."
	}
	if !monthOK {
		faulty = append(faulty, PartMonth)
		if problem == "" {
			problem = "The month of your date of birth must be a number from 1 to 12."
		}
	}
	if !yearOK {
		faulty = append(faulty, PartYear)
		if problem == "" {
			problem = "The year of your date of birth must have 4 numbers, for example 1990."
		}
	}
	if len(faulty) > 0 {
		if len(faulty) > 1 {
			problem = "Date of birth must be a real date, for example 27 3 1990."
		}
		return "", problem, faulty
	}
	if last := time.Date(yn, time.Month(mn)+1, 0, 0, 0, 0, 0, time.UTC).Day(); dn > last {
		return "", fmt.Sprintf("Date of birth must be a real date: %s %d has %d days.", time.Month(mn), yn, last),
			[]string{PartDay}
	}
	return fmt.Sprintf("%04d-%02d-%02d", yn, mn, dn), "", nil
}

// number reads s as at most digits decimal digits.
func number(s string, digits int) (int, bool) {
	if s == "" || len(s) > digits {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}
