package report

import (
	"sort"
	"sync"
)

// phraseSet finds which of a fixed list of phrases occur in a text in one
// pass over it (Aho-Corasick), whatever the number of phrases. ASCII
// letters match in either case; every other byte matches itself. A
// phraseSet is built once and never changes, so it is safe for concurrent
// use.
//
// States are numbered breadth first. The states near the start, where a
// scan spends most of its time, have a full row of transitions; deeper
// states keep only their own edges and fall back along their fail links.
// A transition to a state where a phrase ends is stored complemented, so
// that a scan needs no other lookup for the bytes where nothing ends.
type phraseSet struct {
	class  [256]uint16 // byte → column; 0 for bytes in no phrase
	ncol   int
	nrows  int32       // states below nrows have a row
	rows   []int32     // rows[s*ncol+col]: the next state, complemented when a phrase ends there
	deep   []deepState // the states from nrows on
	edges  []phraseEdge
	fail   []int32 // the state for the longest proper suffix that is a prefix of a phrase
	dict   []int32 // the nearest state on the fail chain where a phrase ends, or 0
	phrase []int32 // the phrase that ends at the state, or -1
	lens   []int   // the byte length of each phrase
}

type phraseEdge struct {
	col uint16
	to  int32 // complemented when a phrase ends there
}

// deepState is a state without a row. Most have a single edge, kept in
// place; the edges of the others are edges[off:off+n].
type deepState struct {
	to   int32 // the single edge's target, as in phraseEdge
	fail int32
	off  int32
	n    uint16
	col  uint16 // the single edge's column
}

// rowDepth is the depth up to which states get a row.
const rowDepth = 2

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

// trieNode is a state of a phraseSet while it is built.
type trieNode struct {
	next   byteEdges
	phrase int32
	depth  int
	fail   int32
	dict   int32
}

// newPhraseSet builds a phraseSet for phrases. A phrase's number is its
// index in phrases; an empty or repeated phrase is never reported.
func newPhraseSet(phrases []string) *phraseSet {
	return buildPhraseSet(phrases, true)
}

// lazyPhraseSet returns a function that builds the phraseSet for phrases
// on its first call and returns it on every call. The package's sets are
// built so, on first use, rather than each time a program starts.
func lazyPhraseSet(phrases []string) func() *phraseSet {
	return sync.OnceValue(func() *phraseSet { return newPhraseSet(phrases) })
}

// newExactPhraseSet is newPhraseSet for a set in which ASCII letters
// match only in the case they are written in.
func newExactPhraseSet(phrases []string) *phraseSet {
	return buildPhraseSet(phrases, false)
}

func buildPhraseSet(phrases []string, fold bool) *phraseSet {
	nodes := buildTrie(phrases, fold)
	order := linkTrie(nodes)
	id := make([]int32, len(nodes)) // trie node → state number
	for i, n := range order {
		id[n] = int32(i)
	}
	ps := &phraseSet{
		fail:   make([]int32, len(nodes)),
		dict:   make([]int32, len(nodes)),
		phrase: make([]int32, len(nodes)),
		lens:   make([]int, len(phrases)),
	}
	for i, p := range phrases {
		ps.lens[i] = len(p)
	}
	ps.ncol = 1
	for _, n := range order {
		ps.phrase[id[n]] = nodes[n].phrase
		ps.fail[id[n]] = id[nodes[n].fail]
		ps.dict[id[n]] = id[nodes[n].dict]
		for _, e := range nodes[n].next {
			if c := e.c; ps.class[c] == 0 {
				ps.class[c] = uint16(ps.ncol)
				ps.ncol++
			}
		}
		if nodes[n].depth <= rowDepth {
			ps.nrows++
		}
	}
	for c := 'A'; c <= 'Z' && fold; c++ {
		ps.class[c] = ps.class[c+'a'-'A']
	}
	ps.addTransitions(nodes, order, id)
	return ps
}

// addTransitions stores the trie's edges as rows for the states near the
// start and as deep states for the others.
func (ps *phraseSet) addTransitions(nodes []trieNode, order, id []int32) {
	// to is state t as a transition stores it.
	to := func(t int32) int32 {
		if ps.phrase[t] >= 0 || ps.dict[t] != 0 {
			return ^t
		}
		return t
	}
	ps.rows = make([]int32, int(ps.nrows)*ps.ncol)
	ps.deep = make([]deepState, len(nodes)-int(ps.nrows))
	for s, n := range order {
		cs := nodes[n].next
		if int32(s) >= ps.nrows {
			d := &ps.deep[s-int(ps.nrows)]
			d.fail, d.n = ps.fail[s], uint16(len(cs))
			if len(cs) == 1 {
				d.col, d.to = ps.class[cs[0].c], to(id[cs[0].to])
				continue
			}
			d.off = int32(len(ps.edges))
			for _, e := range cs {
				ps.edges = append(ps.edges, phraseEdge{ps.class[e.c], to(id[e.to])})
			}
			continue
		}
		row := ps.rows[s*ps.ncol:][:ps.ncol]
		if s != 0 {
			// The fail state is shallower, so its row is complete.
			copy(row, ps.rows[int(ps.fail[s])*ps.ncol:][:ps.ncol])
		}
		for _, e := range cs {
			row[ps.class[e.c]] = to(id[e.to])
		}
	}
}

// buildTrie returns the trie of phrases, its root first, ASCII letters in
// lower case if fold is set.
func buildTrie(phrases []string, fold bool) []trieNode {
	nodes := []trieNode{{phrase: -1}}
	for i, p := range phrases {
		s := int32(0)
		for j := 0; j < len(p); j++ {
			c := p[j]
			if fold {
				c = lowerASCII[c]
			}
			t, ok := nodes[s].next.get(c)
			if !ok {
				t = int32(len(nodes))
				nodes = append(nodes, trieNode{phrase: -1, depth: j + 1})
				nodes[s].next = nodes[s].next.set(c, t)
			}
			s = t
		}
		if s != 0 && nodes[s].phrase < 0 {
			nodes[s].phrase = int32(i)
		}
	}
	return nodes
}

// linkTrie sets the fail and dictionary links of the trie's nodes and
// returns the nodes in breadth-first order.
func linkTrie(nodes []trieNode) []int32 {
	order := []int32{0}
	for i := 0; i < len(order); i++ {
		u := order[i]
		for _, e := range nodes[u].next {
			c, v := e.c, e.to
			if u != 0 {
				f := nodes[u].fail
				for f != 0 && !hasNext(nodes[f], c) {
					f = nodes[f].fail
				}
				if t, ok := nodes[f].next.get(c); ok {
					nodes[v].fail = t
				}
			}
			if f := nodes[v].fail; nodes[f].phrase >= 0 {
				nodes[v].dict = f
			} else {
				nodes[v].dict = nodes[f].dict
			}
			order = append(order, v)
		}
	}
	return order
}

func hasNext(n trieNode, c byte) bool {
	_, ok := n.next.get(c)
	return ok
}

// byteEdges are the edges of a trie node, sorted by byte. Most nodes have
// one or two, so a sorted slice beats a map in time and space.
type byteEdges []byteEdge

type byteEdge struct {
	c  byte
	to int32
}

func (es byteEdges) get(c byte) (int32, bool) {
	i := sort.Search(len(es), func(i int) bool { return es[i].c >= c })
	if i < len(es) && es[i].c == c {
		return es[i].to, true
	}
	return 0, false
}

// set returns es with an edge on c to t, which must be new.
func (es byteEdges) set(c byte, t int32) byteEdges {
	i := sort.Search(len(es), func(i int) bool { return es[i].c >= c })
	es = append(es, byteEdge{})
	copy(es[i+1:], es[i:])
	es[i] = byteEdge{c, t}
	return es
}

// next returns the transition from state s on column col, complemented
// when a phrase ends at the state it leads to.
func (ps *phraseSet) next(s int32, col uint16) int32 {
	for s >= ps.nrows {
		d := &ps.deep[s-ps.nrows]
		if d.n == 1 {
			if d.col == col {
				return d.to
			}
		} else {
			for _, e := range ps.edges[d.off : d.off+int32(d.n)] {
				if e.col == col {
					return e.to
				}
			}
		}
		s = d.fail
	}
	return ps.rows[int(s)*ps.ncol+int(col)]
}

// scan calls f for every occurrence of a phrase in text, in the order the
// occurrences end, with the phrase's number and the offset just past its
// end. It stops when f returns false.
func (ps *phraseSet) scan(text string, f func(phrase, end int) bool) {
	scanPhrases(ps, text, f)
}

// scanBytes is scan for a byte slice.
func (ps *phraseSet) scanBytes(text []byte, f func(phrase, end int) bool) {
	scanPhrases(ps, text, f)
}

func scanPhrases[T string | []byte](ps *phraseSet, text T, f func(phrase, end int) bool) {
	s := int32(0)
	rows, ncol, nrows := ps.rows, ps.ncol, ps.nrows
	for i := 0; i < len(text); i++ {
		col := ps.class[text[i]]
		if col == 0 {
			// A byte in no phrase: every match in progress ends.
			s = 0
			continue
		}
		var t int32
		if s < nrows {
			t = rows[int(s)*ncol+int(col)]
		} else {
			t = ps.next(s, col)
		}
		if t >= 0 {
			s = t
			continue
		}
		s = ^t
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
