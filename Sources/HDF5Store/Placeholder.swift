internal import CHDF5
func _probe() { _ = CHDF5_t_native_float(); _ = H5open() }
