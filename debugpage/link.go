package debugpage

import (
	"net/http"
	"strconv"

	"github.com/querytrace/querytrace"
)

// pageHeader is the response header in which Link names a request's page.
const pageHeader = "Querytrace-Page"

// Link names the page of r's report in the response's Querytrace-Page
// header, such as "/debug/querytrace/requests/42", when r's client is one
// the pages answer (see Handler), and sets nothing for any other. It is
// made for querytrace.Handler's OnHeader, which calls it before the
// response's headers go out, with the request's trace on r's context;
// the report reaches the page once the Recorder observes it, through
// OnFinish or OnReport:
//
//	page := &debugpage.Handler{Recorder: rec}
//	mux.Handle("/debug/querytrace/", page)
//	h := &querytrace.Handler{Next: mux, OnFinish: rec.Observe, OnHeader: page.Link}
//
// The Recorder keeps the number for the request until its report
// arrives; a report that never does (one OnReport dropped) gives its
// number up a few thousand requests later.
func (h *Handler) Link(hdr http.Header, r *http.Request) {
	if h.Recorder == nil || h.refusal(r) != "" {
		return
	}
	tr := querytrace.FromContext(r.Context())
	if tr == nil {
		return
	}
	hdr.Set(pageHeader, h.prefix()+"/requests/"+strconv.FormatUint(h.Recorder.reserve(tr), 10))
}

// maxLinks bounds the numbers given out by Link whose reports have not
// arrived.
const maxLinks = 4096

// reserve returns the number of the request whose trace is tr, which its
// report will have once observed.
func (r *Recorder) reserve(tr *querytrace.Trace) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if id, ok := r.links[tr]; ok {
		return id
	}
	if r.links == nil {
		r.links = make(map[*querytrace.Trace]uint64)
	}
	if len(r.links) >= maxLinks {
		// The older half belong to requests long finished whose reports
		// never came.
		for t, id := range r.links {
			if id+maxLinks/2 <= r.seq {
				delete(r.links, t)
			}
		}
	}
	r.seq++
	r.links[tr] = r.seq
	return r.seq
}

// claim returns the number that Link gave out for req, or 0 for none. The
// caller holds r.mu.
func (r *Recorder) claim(req *http.Request) uint64 {
	if len(r.links) == 0 || req == nil {
		return 0
	}
	tr := querytrace.FromContext(req.Context())
	id := r.links[tr]
	delete(r.links, tr)
	return id
}
