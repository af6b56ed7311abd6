// Package order sorts for the guest with one small, non-generic heapsort.
// Each instantiation of package slices' generic sorts adds ~15 KB of code
// to tailor.wasm, which every visitor downloads; callers here give total
// orders (ties broken by a key), so a stable sort is never needed.
package order

// Sort sorts n elements so that less holds between neighbours, using swap.
func Sort(n int, less func(i, j int) bool, swap func(i, j int)) {
	for i := n/2 - 1; i >= 0; i-- {
		siftDown(i, n, less, swap)
	}
	for end := n - 1; end > 0; end-- {
		swap(0, end)
		siftDown(0, end, less, swap)
	}
}

func siftDown(root, n int, less func(i, j int) bool, swap func(i, j int)) {
	for {
		child := 2*root + 1
		if child >= n {
			return
		}
		if child+1 < n && less(child, child+1) {
			child++
		}
		if !less(root, child) {
			return
		}
		swap(root, child)
		root = child
	}
}

// Strings sorts s in increasing order.
func Strings(s []string) {
	Sort(len(s), func(i, j int) bool { return s[i] < s[j] }, func(i, j int) { s[i], s[j] = s[j], s[i] })
}

// Keys returns a map's keys in increasing order, so that equal maps encode
// to equal bytes.
func Keys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	Strings(keys)
	return keys
}

// Top moves the k first elements (by less) to the front, in order, leaving
// the rest after them in no particular order: O(n + k log n), for rankings
// that show a few of many candidates.
func Top(n, k int, less func(i, j int) bool, swap func(i, j int)) {
	if k >= n/2 {
		Sort(n, less, swap)
		return
	}
	// A heap with the first element at its root; each pop moves the next
	// first element to the end, so after k pops they sit at the end in
	// reverse. Reversing the whole slice brings them to the front in order.
	first := func(i, j int) bool { return less(j, i) }
	for i := n/2 - 1; i >= 0; i-- {
		siftDown(i, n, first, swap)
	}
	for end := n - 1; end >= n-k; end-- {
		swap(0, end)
		siftDown(0, end, first, swap)
	}
	for i, j := 0, n-1; i < j; i, j = i+1, j-1 {
		swap(i, j)
	}
}
