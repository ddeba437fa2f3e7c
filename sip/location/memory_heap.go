package location

import "container/heap"

// expiryHeap orders records by expiry, soonest first; each record knows
// its index so that refreshes and removals are O(log n).
type expiryHeap []*record

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].expires < h[j].expires }

func (h expiryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx = int32(i)
	h[j].heapIdx = int32(j)
}

// Push and Pop serve container/heap; use push, fix and remove.
func (h *expiryHeap) Push(x any) {
	r := x.(*record)
	r.heapIdx = int32(len(*h))
	*h = append(*h, r)
}

func (h *expiryHeap) Pop() any {
	old := *h
	r := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	r.heapIdx = -1

	return r
}

func (h *expiryHeap) push(r *record) { heap.Push(h, r) }

func (h *expiryHeap) fix(r *record) { heap.Fix(h, int(r.heapIdx)) }

func (h *expiryHeap) remove(r *record) {
	if r.heapIdx >= 0 {
		heap.Remove(h, int(r.heapIdx))
	}
}
