package datafile

// RequestSizeRange returns the bounds a remote adapts its request size within: the minimum, and the
// administrator's setting held to the protocol's limits, should the stored setting be out of them.
func (s Settings) RequestSizeRange() (lo, hi int) {
	return MinRequestSize, min(max(s.RequestSizeSetting, MinRequestSize), MaxRequestSize)
}

// CurrentRequestSize returns the size a remote asks for now: the adapted size, within RequestSizeRange.
func (s Settings) CurrentRequestSize() int {
	lo, hi := s.RequestSizeRange()
	return min(max(s.RequestSize, lo), hi)
}
