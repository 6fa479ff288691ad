// lowbit: the group loop of the NEON GEMV kernels' run_grouped (gemv_neon.hpp), included once for
// each target, each time in its own namespace: LOWBIT_GEMV_GROUPED_TARGET gives the functions'
// target attribute (none, or the dotprod one: the kernel's sums inline into them only when they
// have the target the sums were compiled for). No include guard, on purpose.

// run_grouped's loop over the groups (group_args), with the kernel's exact sums as K::sums(kc,
// a_panel, w_panel, s) (columns in fours). Per group: T_g in u32 lanes, then acc +
// scale * float(T_g). One: every group is one block (kc = 32; the last one padded to it), and the
// next group's sums are taken ahead, with no branch between them and this group's float step, so
// the scheduler overlaps the two (in-order cores otherwise wait on the step's chain of
// latencies). General: alpha != 1 or x per column; otherwise both terms are skipped. The float
// step is in NEON lanes, the scales of four groups at a time moved from the caller's rows into
// group-major vectors (one load per column and a 4 x 4 transpose instead of a load per column
// and group); a group-major float table is loaded as it is, and on AArch64 the weights' binary16
// table (group_args::scales_f16) is read where each group's step uses it, one load and
// FCVTL/FCVTL2 (half_rows; no stores into the four groups' buffer and loads back).
// Vfp (Armv7 only): the step in scalar VFP code instead.
//
// Armv7 NEON flushes subnormal inputs and results to zero, VFP does not. The NEON step is
// exact (the same bits as VFP) when every scale is zero, infinite or of magnitude at least
// 2^-103: a product of such a scale and an integer is zero or at least 2^-103 in magnitude, so
// a multiple of 2^-126, and so is every sum of them; a nonzero multiple of 2^-126 is normal, so
// no operand or result is ever subnormal (and NaN scales, whose payload VFP would keep and NEON
// would not, are excluded). The NEON loop checks that for every scale it reads and returns
// false when one fails; the caller then runs the VFP loop for the whole tile.
template <int NR, class K, bool One, bool General, bool F16, bool Vfp = false>
__attribute__((always_inline)) LOWBIT_GEMV_GROUPED_TARGET inline bool groups_loop(
    const group_args& ga) noexcept {
  constexpr int Q = NR / 4;
#if !defined(__aarch64__)
  static_assert(!F16, "binary16 tables are read on AArch64 only (grouped_f16)");
#endif
  // Absent terms read a zero row (stride 0) rather than branch.
  const std::uint32_t zero[NR] = {};
  const std::uint32_t* col_t = ga.col_terms != nullptr ? ga.col_terms : zero;
  const std::uint32_t* col_x = ga.col_x != nullptr ? ga.col_x : zero;
  const std::size_t t_stride = ga.col_terms != nullptr ? NR : 0;
  const std::size_t x_stride = ga.col_x != nullptr ? NR : 0;
  uint32x4_t ahead[Q];
  typename K::one_state st;
  K::one_init(st);
  if (One) K::sums_one(ga.a, ga.w, ahead, st);
  float32x4_t facc[Q];
#pragma GCC unroll 4
  for (int q = 0; q < Q; ++q) facc[q] = vdupq_n_f32(0.0f);
  float vacc[NR] = {};  // Vfp
#if !defined(__aarch64__)
  static_assert(Q == 1, "one vector of columns on Armv7");
  // All lanes set while every scale read is exact in NEON lanes (above).
  uint32x4_t exact = vdupq_n_u32(~0u);
  const float32x4_t tiny = vdupq_n_f32(0x1p-103f);
#endif
  for (std::size_t g0 = 0; g0 < ga.groups; g0 += 4) {
    const std::size_t gn = ga.groups - g0 < 4 ? ga.groups - g0 : 4;
    float32x4_t sb[4][Q];          // sb[x][q]: group g0 + x, columns 4q..4q+3
    if constexpr (!Vfp && !F16) {  // F16: the binary16 table is read group by group below
      if (ga.scale_col == 1) {
        for (std::size_t x = 0; x < gn; ++x)
#pragma GCC unroll 4
          for (int q = 0; q < Q; ++q) sb[x][q] = vld1q_f32(ga.scales + (g0 + x) * NR + 4 * q);
      } else if (ga.cols == NR && gn == 4) {
        prefetch_next_group_rows<NR>(ga, g0);
#pragma GCC unroll 4
        for (int q = 0; q < Q; ++q) {
          float32x4_t r[4];
#pragma GCC unroll 4
          for (int i = 0; i < 4; ++i) r[i] = vld1q_f32(ga.scales + (4 * q + i) * ga.scale_col + g0);
          float32x4_t t[4];
          transpose4(r, t);
#pragma GCC unroll 4
          for (int x = 0; x < 4; ++x) sb[x][q] = t[x];
        }
      } else {  // the last column tile or the last groups: nothing past cols or groups is read
        float buf[4][NR] = {};
        for (std::size_t x = 0; x < gn; ++x)
          for (std::size_t j = 0; j < ga.cols; ++j)
            buf[x][j] = ga.scales[j * ga.scale_col + g0 + x];
        for (std::size_t x = 0; x < gn; ++x)
#pragma GCC unroll 4
          for (int q = 0; q < Q; ++q) sb[x][q] = vld1q_f32(buf[x] + 4 * q);
      }
#if !defined(__aarch64__)
      for (std::size_t x = 0; x < gn; ++x) {
        const uint32x4_t bits = vreinterpretq_u32_f32(sb[x][0]);
        exact = vandq_u32(exact, vorrq_u32(vcageq_f32(sb[x][0], tiny),
                                           vceqq_u32(vshlq_n_u32(bits, 1), vdupq_n_u32(0))));
      }
#endif
    }
    for (std::size_t x = 0; x < gn; ++x) {
      const std::size_t g = g0 + x;
      uint32x4_t s[Q];
      if (One) {
        const std::size_t gx = g + 1 < ga.groups ? g + 1 : g;  // the last: itself, unused
#pragma GCC unroll 4
        for (int q = 0; q < Q; ++q) s[q] = ahead[q];
        K::sums_one(ga.a + gx * ga.a_stride, ga.w + gx * ga.w_stride, ahead, st);
      } else {
        K::sums(g + 1 < ga.groups ? ga.kc : ga.k_last, ga.a + g * ga.a_stride,
                ga.w + g * ga.w_stride, s);
      }
      const std::uint32_t y = ga.row_y[g], pr = ga.row_p[g];
      float32x4_t sc[Q];
      if constexpr (F16) {
#if defined(__aarch64__)
        half_rows<Q>(ga.scales_f16 + g * NR, sc);
#endif
      } else {
#pragma GCC unroll 4
        for (int q = 0; q < Q; ++q) sc[q] = sb[x][q];
      }
#pragma GCC unroll 4
      for (int q = 0; q < Q; ++q) {
        uint32x4_t v = s[q];
        if (General)
          v = vmlaq_n_u32(vmulq_n_u32(v, ga.alpha), vld1q_u32(col_x + g * x_stride + 4 * q), y);
        v = vaddq_u32(vaddq_u32(v, vdupq_n_u32(pr)), vld1q_u32(col_t + g * t_stride + 4 * q));
#if !defined(__aarch64__)
        if constexpr (Vfp) {
          std::uint32_t t[4];
          vst1q_u32(t, v);
          for (std::size_t i = 0; i < 4; ++i) {
            const std::size_t j = 4 * q + i;
            const float sc = j < ga.cols ? ga.scales[j * ga.scale_col + g * ga.scale_group] : 0.0f;
            float prod = sc * static_cast<float>(static_cast<std::int32_t>(t[i]));
            __asm__("" : "+t"(prod));  // rounded on its own: no FMA with the add
            vacc[j] = vacc[j] + prod;
          }
          continue;
        }
#endif
        {
          float32x4_t prod = vmulq_f32(sc[q], vcvtq_f32_s32(vreinterpretq_s32_u32(v)));
          __asm__("" : "+w"(prod));  // rounded on its own: no FMA with the add
          facc[q] = vaddq_f32(facc[q], prod);
        }
      }
    }
  }
#if !defined(__aarch64__)
  if constexpr (Vfp) {
    std::memcpy(ga.acc, vacc, sizeof(vacc));
    return true;
  }
  const uint32x2_t m = vpmin_u32(vget_low_u32(exact), vget_high_u32(exact));
  if (vget_lane_u32(vpmin_u32(m, m), 0) == 0) return false;
#else
  (void)vacc;
#endif
#pragma GCC unroll 4
  for (int q = 0; q < Q; ++q) vst1q_f32(ga.acc + 4 * q, facc[q]);
  return true;
}

// The kernel's run_grouped: the loop for its case (one-block groups or not; alpha or x present;
// on AArch64 binary16 scales or float ones: a branch per group would split the overlap above);
// on Armv7 again in VFP code when a scale is not exact in NEON lanes (groups_loop).
template <int NR, class K, bool One, bool General>
__attribute__((always_inline)) LOWBIT_GEMV_GROUPED_TARGET inline void run_groups(
    const group_args& ga) noexcept {
#if defined(__aarch64__)
  if (ga.scales_f16 != nullptr)
    groups_loop<NR, K, One, General, true>(ga);
  else
    groups_loop<NR, K, One, General, false>(ga);
#else
  if (!groups_loop<NR, K, One, General, false>(ga))
    groups_loop<NR, K, One, General, false, true>(ga);
#endif
}

template <int NR, class K>
__attribute__((always_inline)) LOWBIT_GEMV_GROUPED_TARGET inline void run_grouped(
    const group_args& ga) noexcept {
  const bool general = ga.alpha != 1 || ga.col_x != nullptr;
  if (ga.kc <= K::KS)
    general ? run_groups<NR, K, true, true>(ga) : run_groups<NR, K, true, false>(ga);
  else
    general ? run_groups<NR, K, false, true>(ga) : run_groups<NR, K, false, false>(ga);
}

#undef LOWBIT_GEMV_GROUPED_TARGET
