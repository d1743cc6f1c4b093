/*
 * dump-model.c: compile an MJCF file with native MuJoCo (Debian's 2.2.2) and print the
 * compiled model's physically relevant arrays as one JSON object on stdout.
 *
 * Used by scripts/reference/make-fixture.sh to write test/fixtures/gym-models-mujoco222.json,
 * which test/model-equivalence.test.ts compares against what @mujoco/mujoco (WASM, 3.x)
 * compiles from the files in assets/.
 *
 * Build:  gcc -O2 -o dump-model dump-model.c -lmujoco -lm
 * Usage:  dump-model MODEL.xml > model.json
 *
 * Every array is printed flat, row-major, exactly as it is laid out in mjModel (and in the
 * WASM bindings' typed arrays). Doubles are printed with %.17g, so they round-trip exactly;
 * a non-finite double (none is expected) is printed as the string "inf", "-inf" or "nan".
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <mujoco/mujoco.h>

static int first_field = 1;

static void key(const char* name) {
  printf("%s\n  \"%s\": ", first_field ? "" : ",", name);
  first_field = 0;
}

static void print_double(double v) {
  if (isnan(v)) {
    printf("\"nan\"");
  } else if (isinf(v)) {
    printf(v > 0 ? "\"inf\"" : "\"-inf\"");
  } else {
    printf("%.17g", v);
  }
}

static void int_field(const char* name, int v) {
  key(name);
  printf("%d", v);
}

static void double_field(const char* name, double v) {
  key(name);
  print_double(v);
}

static void doubles(const char* name, const mjtNum* a, int n) {
  key(name);
  printf("[");
  for (int i = 0; i < n; i++) {
    if (i) printf(", ");
    print_double(a[i]);
  }
  printf("]");
}

static void ints(const char* name, const int* a, int n) {
  key(name);
  printf("[");
  for (int i = 0; i < n; i++) printf(i ? ", %d" : "%d", a[i]);
  printf("]");
}

static void bytes(const char* name, const mjtByte* a, int n) {
  key(name);
  printf("[");
  for (int i = 0; i < n; i++) printf(i ? ", %d" : "%d", (int)a[i]);
  printf("]");
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s MODEL.xml\n", argv[0]);
    return 2;
  }
  char error[1000] = "";
  mjModel* m = mj_loadXML(argv[1], NULL, error, sizeof(error));
  if (!m) {
    fprintf(stderr, "%s: cannot compile: %s\n", argv[1], error);
    return 1;
  }
  if (error[0]) fprintf(stderr, "%s: warning: %s\n", argv[1], error);

  printf("{");
  key("mujoco_version");
  printf("\"%s\"", mj_versionString());

  // sizes
  int_field("nq", m->nq);
  int_field("nv", m->nv);
  int_field("nu", m->nu);
  int_field("na", m->na);
  int_field("nbody", m->nbody);
  int_field("njnt", m->njnt);
  int_field("ngeom", m->ngeom);
  int_field("nnumeric", m->nnumeric);
  int_field("nnumericdata", m->nnumericdata);

  // options (mjOption)
  const mjOption* o = &m->opt;
  double_field("opt.timestep", o->timestep);
  double_field("opt.impratio", o->impratio);
  double_field("opt.tolerance", o->tolerance);
  double_field("opt.noslip_tolerance", o->noslip_tolerance);
  double_field("opt.mpr_tolerance", o->mpr_tolerance);
  doubles("opt.gravity", o->gravity, 3);
  doubles("opt.wind", o->wind, 3);
  doubles("opt.magnetic", o->magnetic, 3);
  double_field("opt.density", o->density);
  double_field("opt.viscosity", o->viscosity);
  double_field("opt.o_margin", o->o_margin);
  doubles("opt.o_solref", o->o_solref, mjNREF);
  doubles("opt.o_solimp", o->o_solimp, mjNIMP);
  int_field("opt.integrator", o->integrator);
  int_field("opt.cone", o->cone);
  int_field("opt.jacobian", o->jacobian);
  int_field("opt.solver", o->solver);
  int_field("opt.iterations", o->iterations);
  int_field("opt.noslip_iterations", o->noslip_iterations);
  int_field("opt.mpr_iterations", o->mpr_iterations);
  int_field("opt.disableflags", o->disableflags);
  int_field("opt.enableflags", o->enableflags);

  // bodies
  ints("body_parentid", m->body_parentid, m->nbody);
  ints("body_rootid", m->body_rootid, m->nbody);
  ints("body_weldid", m->body_weldid, m->nbody);
  ints("body_jntnum", m->body_jntnum, m->nbody);
  ints("body_jntadr", m->body_jntadr, m->nbody);
  ints("body_dofnum", m->body_dofnum, m->nbody);
  ints("body_dofadr", m->body_dofadr, m->nbody);
  ints("body_geomnum", m->body_geomnum, m->nbody);
  ints("body_geomadr", m->body_geomadr, m->nbody);
  doubles("body_pos", m->body_pos, 3 * m->nbody);
  doubles("body_quat", m->body_quat, 4 * m->nbody);
  doubles("body_ipos", m->body_ipos, 3 * m->nbody);
  doubles("body_iquat", m->body_iquat, 4 * m->nbody);
  doubles("body_mass", m->body_mass, m->nbody);
  doubles("body_subtreemass", m->body_subtreemass, m->nbody);
  doubles("body_inertia", m->body_inertia, 3 * m->nbody);
  doubles("body_invweight0", m->body_invweight0, 2 * m->nbody);

  // joints
  ints("jnt_type", m->jnt_type, m->njnt);
  ints("jnt_qposadr", m->jnt_qposadr, m->njnt);
  ints("jnt_dofadr", m->jnt_dofadr, m->njnt);
  ints("jnt_bodyid", m->jnt_bodyid, m->njnt);
  bytes("jnt_limited", m->jnt_limited, m->njnt);
  doubles("jnt_solref", m->jnt_solref, mjNREF * m->njnt);
  doubles("jnt_solimp", m->jnt_solimp, mjNIMP * m->njnt);
  doubles("jnt_pos", m->jnt_pos, 3 * m->njnt);
  doubles("jnt_axis", m->jnt_axis, 3 * m->njnt);
  doubles("jnt_stiffness", m->jnt_stiffness, m->njnt);
  doubles("jnt_range", m->jnt_range, 2 * m->njnt);
  doubles("jnt_margin", m->jnt_margin, m->njnt);
  doubles("qpos0", m->qpos0, m->nq);
  doubles("qpos_spring", m->qpos_spring, m->nq);

  // dofs
  ints("dof_bodyid", m->dof_bodyid, m->nv);
  ints("dof_jntid", m->dof_jntid, m->nv);
  ints("dof_parentid", m->dof_parentid, m->nv);
  doubles("dof_solref", m->dof_solref, mjNREF * m->nv);
  doubles("dof_solimp", m->dof_solimp, mjNIMP * m->nv);
  doubles("dof_frictionloss", m->dof_frictionloss, m->nv);
  doubles("dof_armature", m->dof_armature, m->nv);
  doubles("dof_damping", m->dof_damping, m->nv);
  doubles("dof_invweight0", m->dof_invweight0, m->nv);
  doubles("dof_M0", m->dof_M0, m->nv);

  // geoms
  ints("geom_type", m->geom_type, m->ngeom);
  ints("geom_contype", m->geom_contype, m->ngeom);
  ints("geom_conaffinity", m->geom_conaffinity, m->ngeom);
  ints("geom_condim", m->geom_condim, m->ngeom);
  ints("geom_bodyid", m->geom_bodyid, m->ngeom);
  ints("geom_priority", m->geom_priority, m->ngeom);
  doubles("geom_solmix", m->geom_solmix, m->ngeom);
  doubles("geom_solref", m->geom_solref, mjNREF * m->ngeom);
  doubles("geom_solimp", m->geom_solimp, mjNIMP * m->ngeom);
  doubles("geom_size", m->geom_size, 3 * m->ngeom);
  doubles("geom_rbound", m->geom_rbound, m->ngeom);
  doubles("geom_pos", m->geom_pos, 3 * m->ngeom);
  doubles("geom_quat", m->geom_quat, 4 * m->ngeom);
  doubles("geom_friction", m->geom_friction, 3 * m->ngeom);
  doubles("geom_margin", m->geom_margin, m->ngeom);
  doubles("geom_gap", m->geom_gap, m->ngeom);

  // actuators
  ints("actuator_trntype", m->actuator_trntype, m->nu);
  ints("actuator_dyntype", m->actuator_dyntype, m->nu);
  ints("actuator_gaintype", m->actuator_gaintype, m->nu);
  ints("actuator_biastype", m->actuator_biastype, m->nu);
  ints("actuator_trnid", m->actuator_trnid, 2 * m->nu);
  bytes("actuator_ctrllimited", m->actuator_ctrllimited, m->nu);
  bytes("actuator_forcelimited", m->actuator_forcelimited, m->nu);
  doubles("actuator_dynprm", m->actuator_dynprm, mjNDYN * m->nu);
  doubles("actuator_gainprm", m->actuator_gainprm, mjNGAIN * m->nu);
  doubles("actuator_biasprm", m->actuator_biasprm, mjNBIAS * m->nu);
  doubles("actuator_ctrlrange", m->actuator_ctrlrange, 2 * m->nu);
  doubles("actuator_forcerange", m->actuator_forcerange, 2 * m->nu);
  doubles("actuator_gear", m->actuator_gear, 6 * m->nu);
  doubles("actuator_acc0", m->actuator_acc0, m->nu);
  doubles("actuator_length0", m->actuator_length0, m->nu);

  // custom numeric fields (ant.xml's init_qpos)
  ints("numeric_adr", m->numeric_adr, m->nnumeric);
  ints("numeric_size", m->numeric_size, m->nnumeric);
  doubles("numeric_data", m->numeric_data, m->nnumericdata);

  printf("\n}\n");
  mj_deleteModel(m);
  return 0;
}
