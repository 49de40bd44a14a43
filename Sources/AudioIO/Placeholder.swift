internal import CSndFile
internal import CSampleRate
internal import CSoxr
func _probe() { _ = sf_version_string(); _ = src_get_name(CSampleRate_sinc_best()); _ = soxr_version() }
