/**
 * A 1,672-byte HDF5 file that holds two empty, extendible (maxshape (None,)), chunked (16384)
 * datasets, `terminals` and `timeouts`, of **h5py's boolean type**: an HDF5 enum over a signed
 * 8-bit integer with members FALSE=0 and TRUE=1.
 *
 * Why a template: h5py stores numpy `bool` that way (h5py/h5t.pyx `_c_bool`: `H5Tenum_create(H5T_NATIVE_INT8)`
 * + FALSE/TRUE) and reads such an enum back as `np.dtype('bool')` (`TypeEnumID.py_dtype`: "Boolean types
 * have priority over standard enums"). D4RL's own files were written from numpy bool arrays
 * (d4rl/utils/dataset_utils.py `write_dataset`: `terminals` -> `np.bool_`), so that is the dtype a
 * D4RL-compatible `terminals`/`timeouts` should have. h5wasm 0.10 can read enums but cannot create
 * them (its `create_h5_datatype_from_metadata` knows only string/integer/float/reference/compound),
 * so the writer starts every file from this template, extends the two datasets, and writes their
 * int8 bytes straight through `Module.set_dataset_data` (memory type = the file's enum type).
 *
 * Generated once with the system HDF5 C library (Debian libhdf5-dev 1.10.8) from this program
 * (`h5cc -o gen gen.c && ./gen tmpl.h5 && base64 -w0 tmpl.h5`); the output is byte-for-byte
 * deterministic (object timestamps off, as h5py's default track_times=False):
 *
 * ```c
 * #include <hdf5.h>
 * int main(int argc, char **argv) {
 *   if (argc != 2) return 2;
 *   hid_t f = H5Fcreate(argv[1], H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
 *   hid_t t = H5Tenum_create(H5T_NATIVE_INT8);
 *   signed char v0 = 0, v1 = 1;
 *   H5Tenum_insert(t, "FALSE", &v0);
 *   H5Tenum_insert(t, "TRUE", &v1);
 *   hsize_t dims[1] = {0}, maxd[1] = {H5S_UNLIMITED}, chunk[1] = {16384};
 *   const char *names[2] = {"terminals", "timeouts"};
 *   for (int i = 0; i < 2; i++) {
 *     hid_t s = H5Screate_simple(1, dims, maxd);
 *     hid_t p = H5Pcreate(H5P_DATASET_CREATE);
 *     H5Pset_chunk(p, 1, chunk);
 *     H5Pset_obj_track_times(p, 0);
 *     hid_t d = H5Dcreate2(f, names[i], t, s, H5P_DEFAULT, p, H5P_DEFAULT);
 *     if (d < 0) return 1;
 *     H5Dclose(d); H5Pclose(p); H5Sclose(s);
 *   }
 *   H5Tclose(t);
 *   return H5Fclose(f) < 0;
 * }
 * ```
 *
 * h5dump -H of the template shows, for both datasets:
 * `DATATYPE H5T_ENUM { H5T_STD_I8LE; "FALSE" 0; "TRUE" 1; }`, `DATASPACE SIMPLE { ( 0 ) / ( H5S_UNLIMITED ) }`.
 */

/** sha256 of the decoded bytes (checked before use). */
export const H5PY_BOOL_TEMPLATE_SHA256 = 'c2c8aaae6fafdd93a106eae822cbe59ccb6f0a444f1b8e4131cb32a0e4ced1b9';

/** Names of the boolean datasets the template holds. */
export const H5PY_BOOL_TEMPLATE_DATASETS = ['terminals', 'timeouts'] as const;

/** Rows per chunk of the template's datasets. */
export const H5PY_BOOL_TEMPLATE_CHUNK = 16384;

const H5PY_BOOL_TEMPLATE_BASE64 =
  'iUhERg0KGgoAAAAAAAgIAAQAEAAAAAAAAAAAAAAAAAD//////////4gGAAAAAAAA//////////8AAAAAAAAAAGAAAAAAAAAAAQAAAAAAAACIAAAAAAAAAKgCAAAAAAAAAQABAAEAAAAYAAAAAAAAABEAEAAAAAAAiAAAAAAAAACoAgAAAAAAAFRSRUUAAAEA/////////////////////wAAAAAAAAAAMAQAAAAAAAAYAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABIRUFQAAAAAFgAAAAAAAAAKAAAAAAAAADIAgAAAAAAAAAAAAAAAAAAdGVybWluYWxzAAAAAAAAAHRpbWVvdXRzAAAAAAAAAAABAAAAAAAAADAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABAAUAAQAAAAABAAAAAAAAAQAYAAAAAAABAQEAAAAAAAAAAAAAAAAA//////////8DACgAAQAAABgCAAABAAAAEAgAAAEAAAAAAAgARkFMU0UAAABUUlVFAAAAAAABAAAFAAgAAQAAAAIDAgEAAAAACAAYAAAAAAADAgL//////////wBAAAABAAAAAAAAAAAAAHgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAFNOT0QBAAIACAAAAAAAAAAgAwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABgAAAAAAAAAeAUAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABAAUAAQAAAAABAAAAAAAAAQAYAAAAAAABAQEAAAAAAAAAAAAAAAAA//////////8DACgAAQAAABgCAAABAAAAEAgAAAEAAAAAAAgARkFMU0UAAABUUlVFAAAAAAABAAAFAAgAAQAAAAIDAgEAAAAACAAYAAAAAAADAgL//////////wBAAAABAAAAAAAAAAAAAHgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==';

/** The template file's bytes. */
export function h5pyBoolTemplate(): Uint8Array {
  return new Uint8Array(Buffer.from(H5PY_BOOL_TEMPLATE_BASE64, 'base64'));
}
