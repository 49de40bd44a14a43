internal import CFFTW
func _probe() { _ = fftwf_alloc_real(16) }
