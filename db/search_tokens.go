package db

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// This file reads text as SQLite's full-text index does, for the search of the enquiries the index does not
// hold yet (see search_indexer.go): FTS5's unicode61 tokenizer with remove_diacritics 2, and what an ftsQuery
// phrase matches. Its tables are SQLite's own (fts5_unicode2.c: case folding, diacritics, and the code points
// kept in tokens), so that an enquiry is found by exactly the words it will be found by once indexed;
// TestTokensAsSQLite checks them against SQLite itself.

// ftsMaxToken is FTS5_MAX_TOKEN_SIZE: FTS5 keeps only the first this many bytes of a longer token, in the index
// and in a query alike.
const ftsMaxToken = 32768

// ftsTokens returns the tokens of s as FTS5's unicode61 tokenizer (remove_diacritics 2, default token
// characters) makes them: folded to lower case, without diacritics.
func ftsTokens(s string) []string {
	// The tokens are written one after the other into buf, made one string, and cut from it: three
	// allocations for a whole column.
	buf := make([]byte, 0, len(s))
	var ends []int
	start, in := 0, false
	end := func() {
		if in {
			buf = buf[:min(len(buf), start+ftsMaxToken)]
			ends = append(ends, len(buf))
		}
		start, in = len(buf), false
	}
	for _, r := range s {
		if r == 0xFFFE || r == 0xFFFF {
			r = utf8.RuneError // as SQLite reads them
		}
		switch {
		case r < utf8.RuneSelf:
			if 'A' <= r && r <= 'Z' {
				buf, in = append(buf, byte(r)+'a'-'A'), true
			} else if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' {
				buf, in = append(buf, byte(r)), true
			} else {
				end()
			}
		case ftsTokenChar(r) || (in && ftsDiacritic(r)):
			// A diacritic mark continues a token but never starts one.
			if f := ftsFold(r); f != 0 {
				buf = utf8.AppendRune(buf, f)
			}
			in = true
		default:
			end()
		}
	}
	end()
	all := string(buf)
	toks := make([]string, len(ends))
	from := 0
	for i, e := range ends {
		toks[i], from = all[from:e], e
	}
	return toks
}

// ftsTokenChar reports whether unicode61 keeps r in a token by its default categories (L*, N*, Co, and the
// code points unassigned in SQLite's tables, which it always counts as token characters).
func ftsTokenChar(r rune) bool {
	i, _ := slices.BinarySearchFunc(ftsTokenRanges[:], r, func(g struct{ lo, hi rune }, r rune) int {
		if g.hi < r {
			return -1
		}
		if g.lo > r {
			return 1
		}
		return 0
	})
	return i < len(ftsTokenRanges) && ftsTokenRanges[i].lo <= r && r <= ftsTokenRanges[i].hi
}

// ftsDiacritic is sqlite3Fts5UnicodeIsdiacritic: the combining marks that are part of a token (and removed
// from it by ftsFold).
func ftsDiacritic(r rune) bool {
	const mask0, mask1 = 0x08029FDF, 0x000361F8
	switch {
	case r < 768 || r > 817:
		return false
	case r < 768+32:
		return mask0&(1<<(r-768)) != 0
	default:
		return mask1&(1<<(r-768-32)) != 0
	}
}

// ftsFold is sqlite3Fts5UnicodeFold with remove_diacritics 2: r in lower case without its diacritics, 0 for
// a diacritic mark itself. Like SQLite it folds only the Basic Multilingual Plane and Deseret.
func ftsFold(r rune) rune {
	switch {
	case r < 128:
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return r
	case r < 65536:
		// The last range starting at or before r.
		lo, hi, at := 0, len(ftsFoldRanges)-1, -1
		for lo <= hi {
			mid := (lo + hi) / 2
			if r >= rune(ftsFoldRanges[mid].code) {
				at, lo = mid, mid+1
			} else {
				hi = mid - 1
			}
		}
		ret := r
		if e := ftsFoldRanges[at]; r < rune(e.code)+rune(e.n) && rune(e.flags)&1&(rune(e.code)^r) == 0 {
			ret = (r + rune(ftsFoldOffsets[e.flags>>1])) & 0xFFFF
		}
		return ftsRemoveDiacritic(ret)
	case r >= 66560 && r < 66600:
		return r + 40
	}
	return r
}

// ftsRemoveDiacritic is fts5_remove_diacritic in its complex form (remove_diacritics 2): the letter without its
// diacritics, 0 for a diacritic mark.
func ftsRemoveDiacritic(r rune) rune {
	key := uint32(r)<<3 | 7
	lo, hi, at := 0, len(ftsDiacriticKeys)-1, 0
	for lo <= hi {
		mid := (lo + hi) / 2
		if key >= uint32(ftsDiacriticKeys[mid]) {
			at, lo = mid, mid+1
		} else {
			hi = mid - 1
		}
	}
	k := rune(ftsDiacriticKeys[at])
	if r > k>>3+k&7 {
		return r
	}
	return rune(ftsDiacriticBase[at])
}

// searchDoc is an enquiry's searchable text as the index holds it: the tokens of each column (name, email,
// phone without its +, message, notes).
type searchDoc [5][]string

// newSearchDoc tokenizes the columns of one enquiry as the index's triggers and indexer write them.
func newSearchDoc(name, email, phone, message, notes string) *searchDoc {
	return &searchDoc{ftsTokens(name), ftsTokens(email), ftsTokens(strings.TrimLeft(phone, "+")),
		ftsTokens(message), ftsTokens(notes)}
}

// docMatch is a search as a test of one document.
type docMatch func(*searchDoc) bool

// phraseMatch is the FTS5 phrase of text's tokens, the last a prefix when prefix is set: true for a document
// with those tokens one after the other in one column. A phrase with no tokens matches nothing.
func phraseMatch(text string, prefix bool) docMatch {
	want := ftsTokens(text)
	return func(d *searchDoc) bool {
		if len(want) == 0 {
			return false
		}
		for _, col := range d {
		start:
			for i := 0; i+len(want) <= len(col); i++ {
				for j, w := range want {
					got := col[i+j]
					if got != w && !(prefix && j == len(want)-1 && strings.HasPrefix(got, w)) {
						continue start
					}
				}
				return true
			}
		}
		return false
	}
}

// textMatch is what a person typed as a test of a document: the same rule (composeQuery) and the same phrases
// as ftsQuery, so it matches exactly the documents ftsQuery's MATCH finds in the index. ok is false when
// nothing in text is searchable.
func textMatch(text string) (m docMatch, ok bool) {
	return composeQuery(ftsText(text), queryRule[docMatch]{
		term: func(s string) (docMatch, bool) {
			if ftsTerm(s) == "" {
				return nil, false
			}
			return phraseMatch(s, utf8.RuneCountInString(s) >= 2), true
		},
		digits: func(d string) docMatch { return phraseMatch(d, true) },
		all: func(ms []docMatch) docMatch {
			return func(d *searchDoc) bool {
				for _, m := range ms {
					if !m(d) {
						return false
					}
				}
				return true
			}
		},
		either: func(a, b docMatch) docMatch { return func(d *searchDoc) bool { return a(d) || b(d) } },
	})
}

// ftsFoldRange is one rule of SQLite's case folding: from code, n code points (every second one when flags'
// low bit is set) fold by adding ftsFoldOffsets[flags>>1].
type ftsFoldRange struct {
	code     uint16
	flags, n uint8
}

// The tables of fts5_unicode2.c (SQLite 3.54): fts5_remove_diacritic's aDia and aChar (less the flag of the
// letters that only remove_diacritics 2 folds: it is always 2 here), and sqlite3Fts5UnicodeFold's aEntry and
// aiOff; and the runs of code points that sqlite3Fts5UnicodeCategory puts in the categories of token
// characters, made from its tables (aFts5UnicodeBlock, aFts5UnicodeMap, aFts5UnicodeData).
var ftsDiacriticKeys = [...]uint16{
	0, 1797, 1848, 1859, 1891, 1928, 1940, 1995, 2024, 2040, 2060, 2110,
	2168, 2206, 2264, 2286, 2344, 2383, 2472, 2488, 2516, 2596, 2668, 2732,
	2782, 2842, 2894, 2954, 2984, 3000, 3028, 3336, 3456, 3696, 3712, 3728,
	3744, 3766, 3832, 3896, 3912, 3928, 3944, 3968, 4008, 4040, 4056, 4106,
	4138, 4170, 4202, 4234, 4266, 4296, 4312, 4344, 4408, 4424, 4442, 4472,
	4488, 4504, 6148, 6198, 6264, 6280, 6360, 6429, 6505, 6529, 61448, 61468,
	61512, 61534, 61592, 61610, 61642, 61672, 61688, 61704, 61726, 61784, 61800, 61816,
	61836, 61880, 61896, 61914, 61948, 61998, 62062, 62122, 62154, 62184, 62200, 62218,
	62252, 62302, 62364, 62410, 62442, 62478, 62536, 62554, 62584, 62604, 62640, 62648,
	62656, 62664, 62730, 62766, 62830, 62890, 62924, 62974, 63032, 63050, 63082, 63118,
	63182, 63242, 63274, 63310, 63368, 63390,
}

var ftsDiacriticBase = [...]byte{
	0, 'a', 'c', 'e', 'i', 'n', 'o', 'u', 'y', 'y', 'a', 'c',
	'd', 'e', 'e', 'g', 'h', 'i', 'j', 'k', 'l', 'n', 'o', 'r',
	's', 't', 'u', 'u', 'w', 'y', 'z', 'o', 'u', 'a', 'i', 'o',
	'u', 'u', 'a', 'g', 'k', 'o', 'o', 'j', 'g', 'n', 'a', 'a',
	'e', 'i', 'o', 'r', 'u', 's', 't', 'h', 'a', 'e', 'o', 'o',
	'o', 'y', 0, 0, 0, 0, 0, 0, 0, 0, 'a', 'b',
	'c', 'd', 'd', 'e', 'e', 'e', 'f', 'g', 'h', 'h', 'i', 'i',
	'k', 'l', 'l', 'l', 'm', 'n', 'o', 'p', 'r', 'r', 'r', 's',
	's', 't', 'u', 'u', 'v', 'w', 'w', 'x', 'y', 'z', 'h', 't',
	'w', 'y', 'a', 'a', 'a', 'a', 'e', 'e', 'e', 'i', 'o', 'o',
	'o', 'o', 'u', 'u', 'u', 'y',
}

var ftsFoldRanges = [...]ftsFoldRange{
	{65, 14, 26}, {181, 64, 1}, {192, 14, 23}, {216, 14, 7}, {256, 1, 48}, {306, 1, 6},
	{313, 1, 16}, {330, 1, 46}, {376, 116, 1}, {377, 1, 6}, {383, 104, 1}, {385, 50, 1},
	{386, 1, 4}, {390, 44, 1}, {391, 0, 1}, {393, 42, 2}, {395, 0, 1}, {398, 32, 1},
	{399, 38, 1}, {400, 40, 1}, {401, 0, 1}, {403, 42, 1}, {404, 46, 1}, {406, 52, 1},
	{407, 48, 1}, {408, 0, 1}, {412, 52, 1}, {413, 54, 1}, {415, 56, 1}, {416, 1, 6},
	{422, 60, 1}, {423, 0, 1}, {425, 60, 1}, {428, 0, 1}, {430, 60, 1}, {431, 0, 1},
	{433, 58, 2}, {435, 1, 4}, {439, 62, 1}, {440, 0, 1}, {444, 0, 1}, {452, 2, 1},
	{453, 0, 1}, {455, 2, 1}, {456, 0, 1}, {458, 2, 1}, {459, 1, 18}, {478, 1, 18},
	{497, 2, 1}, {498, 1, 4}, {502, 122, 1}, {503, 134, 1}, {504, 1, 40}, {544, 110, 1},
	{546, 1, 18}, {570, 70, 1}, {571, 0, 1}, {573, 108, 1}, {574, 68, 1}, {577, 0, 1},
	{579, 106, 1}, {580, 28, 1}, {581, 30, 1}, {582, 1, 10}, {837, 36, 1}, {880, 1, 4},
	{886, 0, 1}, {902, 18, 1}, {904, 16, 3}, {908, 26, 1}, {910, 24, 2}, {913, 14, 17},
	{931, 14, 9}, {962, 0, 1}, {975, 4, 1}, {976, 140, 1}, {977, 142, 1}, {981, 146, 1},
	{982, 144, 1}, {984, 1, 24}, {1008, 136, 1}, {1009, 138, 1}, {1012, 130, 1}, {1013, 128, 1},
	{1015, 0, 1}, {1017, 152, 1}, {1018, 0, 1}, {1021, 110, 3}, {1024, 34, 16}, {1040, 14, 32},
	{1120, 1, 34}, {1162, 1, 54}, {1216, 6, 1}, {1217, 1, 14}, {1232, 1, 88}, {1329, 22, 38},
	{4256, 66, 38}, {4295, 66, 1}, {4301, 66, 1}, {7680, 1, 150}, {7835, 132, 1}, {7838, 96, 1},
	{7840, 1, 96}, {7944, 150, 8}, {7960, 150, 6}, {7976, 150, 8}, {7992, 150, 8}, {8008, 150, 6},
	{8025, 151, 8}, {8040, 150, 8}, {8072, 150, 8}, {8088, 150, 8}, {8104, 150, 8}, {8120, 150, 2},
	{8122, 126, 2}, {8124, 148, 1}, {8126, 100, 1}, {8136, 124, 4}, {8140, 148, 1}, {8152, 150, 2},
	{8154, 120, 2}, {8168, 150, 2}, {8170, 118, 2}, {8172, 152, 1}, {8184, 112, 2}, {8186, 114, 2},
	{8188, 148, 1}, {8486, 98, 1}, {8490, 92, 1}, {8491, 94, 1}, {8498, 12, 1}, {8544, 8, 16},
	{8579, 0, 1}, {9398, 10, 26}, {11264, 22, 47}, {11360, 0, 1}, {11362, 88, 1}, {11363, 102, 1},
	{11364, 90, 1}, {11367, 1, 6}, {11373, 84, 1}, {11374, 86, 1}, {11375, 80, 1}, {11376, 82, 1},
	{11378, 0, 1}, {11381, 0, 1}, {11390, 78, 2}, {11392, 1, 100}, {11499, 1, 4}, {11506, 0, 1},
	{42560, 1, 46}, {42624, 1, 24}, {42786, 1, 14}, {42802, 1, 62}, {42873, 1, 4}, {42877, 76, 1},
	{42878, 1, 10}, {42891, 0, 1}, {42893, 74, 1}, {42896, 1, 4}, {42912, 1, 10}, {42922, 72, 1},
	{65313, 14, 26},
}

var ftsFoldOffsets = [...]uint16{
	1, 2, 8, 15, 16, 26, 28, 32, 37, 38, 40, 48,
	63, 64, 69, 71, 79, 80, 116, 202, 203, 205, 206, 207,
	209, 210, 211, 213, 214, 217, 218, 219, 775, 7264, 10792, 10795,
	23228, 23256, 30204, 54721, 54753, 54754, 54756, 54787, 54793, 54809, 57153, 57274,
	57921, 58019, 58363, 61722, 65268, 65341, 65373, 65406, 65408, 65410, 65415, 65424,
	65436, 65439, 65450, 65462, 65472, 65476, 65478, 65480, 65482, 65488, 65506, 65511,
	65514, 65521, 65527, 65528, 65529,
}

var ftsTokenRanges = [...]struct{ lo, hi rune }{
	{0x30, 0x39}, {0x41, 0x5A}, {0x61, 0x7A}, {0xAA, 0xAA}, {0xB2, 0xB3}, {0xB5, 0xB5},
	{0xB9, 0xBA}, {0xBC, 0xBE}, {0xC0, 0xD6}, {0xD8, 0xF6}, {0xF8, 0x2C1}, {0x2C6, 0x2D1},
	{0x2E0, 0x2E4}, {0x2EC, 0x2EC}, {0x2EE, 0x2EE}, {0x370, 0x374}, {0x376, 0x37D}, {0x37F, 0x383},
	{0x386, 0x386}, {0x388, 0x3F5}, {0x3F7, 0x481}, {0x48A, 0x559}, {0x560, 0x588}, {0x58B, 0x58E},
	{0x590, 0x590}, {0x5C8, 0x5F2}, {0x5F5, 0x5FF}, {0x605, 0x605}, {0x61C, 0x61D}, {0x620, 0x64A},
	{0x660, 0x669}, {0x66E, 0x66F}, {0x671, 0x6D3}, {0x6D5, 0x6D5}, {0x6E5, 0x6E6}, {0x6EE, 0x6FC},
	{0x6FF, 0x6FF}, {0x70E, 0x70E}, {0x710, 0x710}, {0x712, 0x72F}, {0x74B, 0x7A5}, {0x7B1, 0x7EA},
	{0x7F4, 0x7F5}, {0x7FA, 0x815}, {0x81A, 0x81A}, {0x824, 0x824}, {0x828, 0x828}, {0x82E, 0x82F},
	{0x83F, 0x858}, {0x85C, 0x85D}, {0x85F, 0x8E3}, {0x8FF, 0x8FF}, {0x904, 0x939}, {0x93D, 0x93D},
	{0x950, 0x950}, {0x958, 0x961}, {0x966, 0x96F}, {0x971, 0x980}, {0x984, 0x9BB}, {0x9BD, 0x9BD},
	{0x9C5, 0x9C6}, {0x9C9, 0x9CA}, {0x9CE, 0x9D6}, {0x9D8, 0x9E1}, {0x9E4, 0x9F1}, {0x9F4, 0x9F9},
	{0x9FC, 0xA00}, {0xA04, 0xA3B}, {0xA3D, 0xA3D}, {0xA43, 0xA46}, {0xA49, 0xA4A}, {0xA4E, 0xA50},
	{0xA52, 0xA6F}, {0xA72, 0xA74}, {0xA76, 0xA80}, {0xA84, 0xABB}, {0xABD, 0xABD}, {0xAC6, 0xAC6},
	{0xACA, 0xACA}, {0xACE, 0xAE1}, {0xAE4, 0xAEF}, {0xAF2, 0xB00}, {0xB04, 0xB3B}, {0xB3D, 0xB3D},
	{0xB45, 0xB46}, {0xB49, 0xB4A}, {0xB4E, 0xB55}, {0xB58, 0xB61}, {0xB64, 0xB6F}, {0xB71, 0xB81},
	{0xB83, 0xBBD}, {0xBC3, 0xBC5}, {0xBC9, 0xBC9}, {0xBCE, 0xBD6}, {0xBD8, 0xBF2}, {0xBFB, 0xC00},
	{0xC04, 0xC3D}, {0xC45, 0xC45}, {0xC49, 0xC49}, {0xC4E, 0xC54}, {0xC57, 0xC61}, {0xC64, 0xC7E},
	{0xC80, 0xC81}, {0xC84, 0xCBB}, {0xCBD, 0xCBD}, {0xCC5, 0xCC5}, {0xCC9, 0xCC9}, {0xCCE, 0xCD4},
	{0xCD7, 0xCE1}, {0xCE4, 0xD01}, {0xD04, 0xD3D}, {0xD45, 0xD45}, {0xD49, 0xD49}, {0xD4E, 0xD56},
	{0xD58, 0xD61}, {0xD64, 0xD78}, {0xD7A, 0xD81}, {0xD84, 0xDC9}, {0xDCB, 0xDCE}, {0xDD5, 0xDD5},
	{0xDD7, 0xDD7}, {0xDE0, 0xDF1}, {0xDF5, 0xE30}, {0xE32, 0xE33}, {0xE3B, 0xE3E}, {0xE40, 0xE46},
	{0xE50, 0xE59}, {0xE5C, 0xEB0}, {0xEB2, 0xEB3}, {0xEBA, 0xEBA}, {0xEBD, 0xEC7}, {0xECE, 0xF00},
	{0xF20, 0xF33}, {0xF40, 0xF70}, {0xF88, 0xF8C}, {0xF98, 0xF98}, {0xFBD, 0xFBD}, {0xFCD, 0xFCD},
	{0xFDB, 0x102A}, {0x103F, 0x1049}, {0x1050, 0x1055}, {0x105A, 0x105D}, {0x1061, 0x1061}, {0x1065, 0x1066},
	{0x106E, 0x1070}, {0x1075, 0x1081}, {0x108E, 0x108E}, {0x1090, 0x1099}, {0x10A0, 0x10FA}, {0x10FC, 0x135C},
	{0x1369, 0x138F}, {0x139A, 0x13FF}, {0x1401, 0x166C}, {0x166F, 0x167F}, {0x1681, 0x169A}, {0x169D, 0x16EA},
	{0x16EE, 0x1711}, {0x1715, 0x1731}, {0x1737, 0x1751}, {0x1754, 0x1771}, {0x1774, 0x17B3}, {0x17D7, 0x17D7},
	{0x17DC, 0x17DC}, {0x17DE, 0x17FF}, {0x180F, 0x18A8}, {0x18AA, 0x191F}, {0x192C, 0x192F}, {0x193C, 0x193F},
	{0x1941, 0x1943}, {0x1946, 0x19AF}, {0x19C1, 0x19C7}, {0x19CA, 0x19DD}, {0x1A00, 0x1A16}, {0x1A1C, 0x1A1D},
	{0x1A20, 0x1A54}, {0x1A5F, 0x1A5F}, {0x1A7D, 0x1A7E}, {0x1A80, 0x1A9F}, {0x1AA7, 0x1AA7}, {0x1AAE, 0x1AFF},
	{0x1B05, 0x1B33}, {0x1B45, 0x1B59}, {0x1B7D, 0x1B7F}, {0x1B83, 0x1BA0}, {0x1BAE, 0x1BE5}, {0x1BF4, 0x1BFB},
	{0x1C00, 0x1C23}, {0x1C38, 0x1C3A}, {0x1C40, 0x1C7D}, {0x1C80, 0x1CBF}, {0x1CC8, 0x1CCF}, {0x1CE9, 0x1CEC},
	{0x1CEE, 0x1CF1}, {0x1CF5, 0x1DBF}, {0x1DE7, 0x1DFB}, {0x1E00, 0x1FBC}, {0x1FBE, 0x1FBE}, {0x1FC2, 0x1FCC},
	{0x1FD0, 0x1FDC}, {0x1FE0, 0x1FEC}, {0x1FF0, 0x1FFC}, {0x1FFF, 0x1FFF}, {0x2065, 0x2069}, {0x2070, 0x2079},
	{0x207F, 0x2089}, {0x208F, 0x209F}, {0x20BA, 0x20CF}, {0x20F1, 0x20FF}, {0x2102, 0x2102}, {0x2107, 0x2107},
	{0x210A, 0x2113}, {0x2115, 0x2115}, {0x2119, 0x211D}, {0x2124, 0x2124}, {0x2126, 0x2126}, {0x2128, 0x2128},
	{0x212A, 0x212D}, {0x212F, 0x2139}, {0x213C, 0x213F}, {0x2145, 0x2149}, {0x214E, 0x214E}, {0x2150, 0x218F},
	{0x23F4, 0x23FF}, {0x2427, 0x243F}, {0x244B, 0x249B}, {0x24EA, 0x24FF}, {0x2700, 0x2700}, {0x2776, 0x2793},
	{0x2B4D, 0x2B4F}, {0x2B5A, 0x2CE4}, {0x2CEB, 0x2CEE}, {0x2CF2, 0x2CF8}, {0x2CFD, 0x2CFD}, {0x2D00, 0x2D6F},
	{0x2D71, 0x2D7E}, {0x2D80, 0x2DDF}, {0x2E2F, 0x2E2F}, {0x2E3C, 0x2E7F}, {0x2E9A, 0x2E9A}, {0x2EF4, 0x2EFF},
	{0x2FD6, 0x2FEF}, {0x2FFC, 0x2FFF}, {0x3005, 0x3007}, {0x3021, 0x3029}, {0x3031, 0x3035}, {0x3038, 0x303C},
	{0x3040, 0x3098}, {0x309D, 0x309F}, {0x30A1, 0x30FA}, {0x30FC, 0x318F}, {0x3192, 0x3195}, {0x31A0, 0x31BF},
	{0x31E4, 0x31FF}, {0x321F, 0x3229}, {0x3248, 0x324F}, {0x3251, 0x325F}, {0x3280, 0x3289}, {0x32B1, 0x32BF},
	{0x32FF, 0x32FF}, {0x3400, 0x4DBF}, {0x4E00, 0xA48F}, {0xA4C7, 0xA4FD}, {0xA500, 0xA60C}, {0xA610, 0xA66E},
	{0xA67F, 0xA69E}, {0xA6A0, 0xA6EF}, {0xA6F8, 0xA6FF}, {0xA717, 0xA71F}, {0xA722, 0xA788}, {0xA78B, 0xA801},
	{0xA803, 0xA805}, {0xA807, 0xA80A}, {0xA80C, 0xA822}, {0xA82C, 0xA835}, {0xA83A, 0xA873}, {0xA878, 0xA87F},
	{0xA882, 0xA8B3}, {0xA8C5, 0xA8CD}, {0xA8D0, 0xA8DF}, {0xA8F2, 0xA8F7}, {0xA8FB, 0xA925}, {0xA930, 0xA946},
	{0xA954, 0xA95E}, {0xA960, 0xA97F}, {0xA984, 0xA9B2}, {0xA9CE, 0xA9DD}, {0xA9E0, 0xAA28}, {0xAA37, 0xAA42},
	{0xAA44, 0xAA4B}, {0xAA4E, 0xAA5B}, {0xAA60, 0xAA76}, {0xAA7A, 0xAA7A}, {0xAA7C, 0xAAAF}, {0xAAB1, 0xAAB1},
	{0xAAB5, 0xAAB6}, {0xAAB9, 0xAABD}, {0xAAC0, 0xAAC0}, {0xAAC2, 0xAADD}, {0xAAE0, 0xAAEA}, {0xAAF2, 0xAAF4},
	{0xAAF7, 0xABE2}, {0xABEE, 0xD7FF}, {0xE000, 0xFB1D}, {0xFB1F, 0xFB28}, {0xFB2A, 0xFBB1}, {0xFBC2, 0xFD3D},
	{0xFD40, 0xFDFB}, {0xFDFE, 0xFDFF}, {0xFE1A, 0xFE1F}, {0xFE27, 0xFE2F}, {0xFE53, 0xFE53}, {0xFE67, 0xFE67},
	{0xFE6C, 0xFEFE}, {0xFF00, 0xFF00}, {0xFF10, 0xFF19}, {0xFF21, 0xFF3A}, {0xFF41, 0xFF5A}, {0xFF66, 0xFFDF},
	{0xFFE7, 0xFFE7}, {0xFFEF, 0xFFF8}, {0xFFFE, 0x100FF}, {0x10103, 0x10136}, {0x10140, 0x10178}, {0x1018A, 0x1018F},
	{0x1019C, 0x101CF}, {0x101FE, 0x1039E}, {0x103A0, 0x103CF}, {0x103D1, 0x10856}, {0x10858, 0x1091E}, {0x10920, 0x1093E},
	{0x10940, 0x10A00}, {0x10A04, 0x10A04}, {0x10A07, 0x10A0B}, {0x10A10, 0x10A37}, {0x10A3B, 0x10A3E}, {0x10A40, 0x10A4F},
	{0x10A59, 0x10A7E}, {0x10A80, 0x10B38}, {0x10B40, 0x10FFF}, {0x11003, 0x11037}, {0x1104E, 0x1107F}, {0x11083, 0x110AF},
	{0x110C2, 0x110FF}, {0x11103, 0x11126}, {0x11135, 0x1113F}, {0x11144, 0x1117F}, {0x11183, 0x111B2}, {0x111C1, 0x111C4},
	{0x111C9, 0x116AA}, {0x116B8, 0x1246F}, {0x12474, 0x16F50}, {0x16F7F, 0x16F8E}, {0x16F93, 0x1CFFF}, {0x1D0F6, 0x1D0FF},
	{0x1D127, 0x1D128}, {0x1D1DE, 0x1D1FF}, {0x1D246, 0x1D2FF}, {0x1D357, 0x1D6C0}, {0x1D6C2, 0x1D6DA}, {0x1D6DC, 0x1D6FA},
	{0x1D6FC, 0x1D714}, {0x1D716, 0x1D734}, {0x1D736, 0x1D74E}, {0x1D750, 0x1D76E}, {0x1D770, 0x1D788}, {0x1D78A, 0x1D7A8},
	{0x1D7AA, 0x1D7C2}, {0x1D7C4, 0x1EEEF}, {0x1EEF2, 0x1EFFF}, {0x1F02C, 0x1F02F}, {0x1F094, 0x1F09F}, {0x1F0AF, 0x1F0B0},
	{0x1F0BF, 0x1F0C0}, {0x1F0D0, 0x1F0D0}, {0x1F0E0, 0x1F10F}, {0x1F12F, 0x1F12F}, {0x1F16C, 0x1F16F}, {0x1F19B, 0x1F1E5},
	{0x1F203, 0x1F20F}, {0x1F23B, 0x1F23F}, {0x1F249, 0x1F24F}, {0x1F252, 0x1F2FF}, {0x1F321, 0x1F32F}, {0x1F336, 0x1F336},
	{0x1F37D, 0x1F37F}, {0x1F394, 0x1F39F}, {0x1F3C5, 0x1F3C5}, {0x1F3CB, 0x1F3DF}, {0x1F3F1, 0x1F3FF}, {0x1F43F, 0x1F43F},
	{0x1F441, 0x1F441}, {0x1F4F8, 0x1F4F8}, {0x1F4FD, 0x1F4FF}, {0x1F53E, 0x1F53F}, {0x1F544, 0x1F54F}, {0x1F568, 0x1F5FA},
	{0x1F641, 0x1F644}, {0x1F650, 0x1F67F}, {0x1F6C6, 0x1F6FF}, {0x1F774, 0xE0000}, {0xE0002, 0xE001F}, {0xE0080, 0xE00FF},
	{0xE01F0, 0x10FFFF},
}
