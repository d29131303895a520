package report

// phraseSet finds which of a fixed list of phrases occur in a text in one
// pass over it (Aho-Corasick), whatever the number of phrases. ASCII
// letters match in either case; every other byte matches itself. A
// phraseSet is built once and never changes, so it is safe for concurrent
// use.
//
// States near the start, where a scan spends most of its time, have a full
// row of transitions; deeper states keep only their own edges and fall back
// along their fail links.
type phraseSet struct {
	class   [256]uint8 // byte → column of a row; 0 for bytes in no phrase
	ncol    int
	row     []int32 // state → its row in rows, or -1
	rows    []int32 // full transition rows of the states near the start
	edgeOff []int32 // the edges of state s are edges[edgeOff[s]:edgeOff[s+1]]
	edges   []phraseEdge
	fail    []int32 // the state for the longest proper suffix that is a prefix of a phrase
	dict    []int32 // the nearest state on the fail chain that ends a phrase, or 0
	phrase  []int32 // the phrase ending at the state, or -1
	lens    []int   // the byte length of each phrase
}

// rowDepth is the depth up to which states get a full row.
const rowDepth = 2

type phraseEdge struct {
	b  byte
	to int32
}

// lowerASCII maps A-Z to a-z and every other byte to itself.
var lowerASCII = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = byte(c) + 'a' - 'A'
	}
	return t
}()

// newPhraseSet builds a phraseSet for phrases. A phrase's number is its
// index in phrases; an empty or repeated phrase is never reported.
func newPhraseSet(phrases []string) *phraseSet {
	type node struct {
		next   map[byte]int32
		phrase int32
	}
	nodes := []node{{next: map[byte]int32{}, phrase: -1}}
	depth := []int{0}
	for i, p := range phrases {
		s := int32(0)
		for j := 0; j < len(p); j++ {
			c := lowerASCII[p[j]]
			t, ok := nodes[s].next[c]
			if !ok {
				t = int32(len(nodes))
				nodes = append(nodes, node{next: map[byte]int32{}, phrase: -1})
				depth = append(depth, j+1)
				nodes[s].next[c] = t
			}
			s = t
		}
		if s != 0 && nodes[s].phrase < 0 {
			nodes[s].phrase = int32(i)
		}
	}
	ps := &phraseSet{
		row:     make([]int32, len(nodes)),
		edgeOff: make([]int32, len(nodes)+1),
		fail:    make([]int32, len(nodes)),
		dict:    make([]int32, len(nodes)),
		phrase:  make([]int32, len(nodes)),
		lens:    make([]int, len(phrases)),
	}
	for i, p := range phrases {
		ps.lens[i] = len(p)
	}
	ps.ncol = 1
	for _, n := range nodes {
		for c := range n.next {
			if ps.class[c] == 0 {
				ps.class[c] = uint8(ps.ncol)
				ps.ncol++
			}
		}
	}
	for s, n := range nodes {
		ps.phrase[s] = n.phrase
		ps.edgeOff[s] = int32(len(ps.edges))
		for c := 0; c < 256; c++ {
			if t, ok := n.next[byte(c)]; ok {
				ps.edges = append(ps.edges, phraseEdge{byte(c), t})
			}
		}
	}
	ps.edgeOff[len(nodes)] = int32(len(ps.edges))
	// Breadth first, so that the fail target and row of every shallower
	// state are complete before use.
	ps.addRow(0)
	queue := []int32{0}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		for _, e := range ps.edgesOf(u) {
			v := e.to
			if u != 0 {
				ps.fail[v] = ps.step(ps.fail[u], e.b)
			}
			if f := ps.fail[v]; ps.phrase[f] >= 0 {
				ps.dict[v] = f
			} else {
				ps.dict[v] = ps.dict[f]
			}
			if depth[v] <= rowDepth {
				ps.addRow(v)
			} else {
				ps.row[v] = -1
			}
			queue = append(queue, v)
		}
	}
	return ps
}

// addRow gives state s a full row of transitions. The rows of the states
// on its fail chain must exist.
func (ps *phraseSet) addRow(s int32) {
	ps.row[s] = int32(len(ps.rows) / ps.ncol)
	start := len(ps.rows)
	ps.rows = append(ps.rows, make([]int32, ps.ncol)...)
	r := ps.rows[start:]
	if s != 0 {
		copy(r, ps.rows[int(ps.row[ps.fail[s]])*ps.ncol:][:ps.ncol])
	}
	for _, e := range ps.edgesOf(s) {
		r[ps.class[e.b]] = e.to
	}
}

func (ps *phraseSet) edgesOf(s int32) []phraseEdge {
	return ps.edges[ps.edgeOff[s]:ps.edgeOff[s+1]]
}

// step returns the state after reading the (lower-cased) byte c in state s.
func (ps *phraseSet) step(s int32, c byte) int32 {
	for {
		if r := ps.row[s]; r >= 0 {
			return ps.rows[int(r)*ps.ncol+int(ps.class[c])]
		}
		for _, e := range ps.edgesOf(s) {
			if e.b == c {
				return e.to
			}
		}
		s = ps.fail[s]
	}
}

// scan calls f for every occurrence of a phrase in text, in the order the
// occurrences end, with the phrase's number and the offset just past its
// end. It stops when f returns false.
func (ps *phraseSet) scan(text string, f func(phrase, end int) bool) {
	s := int32(0)
	for i := 0; i < len(text); i++ {
		s = ps.step(s, lowerASCII[text[i]])
		if ps.phrase[s] < 0 && ps.dict[s] == 0 {
			continue
		}
		for o := s; o != 0; o = ps.dict[o] {
			if p := ps.phrase[o]; p >= 0 && !f(int(p), i+1) {
				return
			}
		}
	}
}

// any reports whether any phrase occurs in text.
func (ps *phraseSet) any(text string) bool {
	found := false
	ps.scan(text, func(int, int) bool {
		found = true
		return false
	})
	return found
}
