// HDF5 1.10 (serial, thread-safe build). The type, property-list and flag "constants" below are macros that
// call H5open() in C, which Swift cannot import: each is exposed as a prefixed static inline function.
#ifndef CHDF5_SHIM_H
#define CHDF5_SHIM_H
#include <hdf5.h>

static inline hid_t CHDF5_p_default(void) { return H5P_DEFAULT; }
static inline hid_t CHDF5_e_default(void) { return H5E_DEFAULT; }
static inline hid_t CHDF5_s_all(void) { return H5S_ALL; }
static inline hsize_t CHDF5_s_unlimited(void) { return H5S_UNLIMITED; }
static inline size_t CHDF5_t_variable(void) { return H5T_VARIABLE; }

static inline unsigned CHDF5_f_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline unsigned CHDF5_f_acc_excl(void) { return H5F_ACC_EXCL; }
static inline unsigned CHDF5_f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned CHDF5_f_acc_rdwr(void) { return H5F_ACC_RDWR; }

static inline hid_t CHDF5_p_file_create(void) { return H5P_FILE_CREATE; }
static inline hid_t CHDF5_p_file_access(void) { return H5P_FILE_ACCESS; }
static inline hid_t CHDF5_p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t CHDF5_p_dataset_access(void) { return H5P_DATASET_ACCESS; }
static inline hid_t CHDF5_p_dataset_xfer(void) { return H5P_DATASET_XFER; }
static inline hid_t CHDF5_p_link_create(void) { return H5P_LINK_CREATE; }

static inline hid_t CHDF5_t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t CHDF5_t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t CHDF5_t_native_int8(void) { return H5T_NATIVE_INT8; }
static inline hid_t CHDF5_t_native_uint8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t CHDF5_t_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t CHDF5_t_native_uint32(void) { return H5T_NATIVE_UINT32; }
static inline hid_t CHDF5_t_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t CHDF5_t_native_uint64(void) { return H5T_NATIVE_UINT64; }
static inline hid_t CHDF5_t_ieee_f32le(void) { return H5T_IEEE_F32LE; }
static inline hid_t CHDF5_t_ieee_f64le(void) { return H5T_IEEE_F64LE; }
static inline hid_t CHDF5_t_std_i32le(void) { return H5T_STD_I32LE; }
static inline hid_t CHDF5_t_std_i64le(void) { return H5T_STD_I64LE; }
static inline hid_t CHDF5_t_std_u8le(void) { return H5T_STD_U8LE; }
static inline hid_t CHDF5_t_std_u64le(void) { return H5T_STD_U64LE; }
static inline hid_t CHDF5_t_c_s1(void) { return H5T_C_S1; }

// Added for HDF5Store.
static inline hid_t CHDF5_t_std_i8le(void) { return H5T_STD_I8LE; }

/// Turns off HDF5's automatic error printing for the CALLING THREAD, once per thread. In the thread-safe build the
/// error stack and its automatic-printing setting are per thread (measured: H5Eset_auto2 on one thread leaves the
/// others printing), so a single call at start-up is not enough; HDF5Store calls this before every library call.
/// Returns 0, or a negative value if H5Eset_auto2 failed (the thread is then retried on its next call).
static inline herr_t CHDF5_silence_automatic_error_printing(void) {
    static _Thread_local int silenced = 0;
    if (silenced) return 0;
    herr_t status = H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (status >= 0) silenced = 1;
    return status;
}
#endif
