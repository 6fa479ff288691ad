// lowbit: the group loop of the NEON GEMV kernels' run_grouped (gemv_neon.hpp), included once for
// each target, each time in its own namespace: LOWBIT_GEMV_GROUPED_TARGET gives the functions'
// target attribute (none, or the dotprod one: the kernel's sums inline into them only when they
// have the target the sums were compiled for). No include guard, on purpose.

// run_grouped's loop over the groups (group_args), with the kernel's exact sums as K::sums(kc,
// a_panel, w_panel, s) (columns in fours). Per group: T_g in u32 lanes, then acc + scale *
// float(T_g). One: every group is one block (kc = 32; the last one padded to it), and the next
// group's sums are taken ahead, with no branch between them and this group's float step, so
// the scheduler overlaps the two (in-order cores otherwise wait on the step's chain of
// latencies). General: alpha != 1 or x per column; otherwise both terms are skipped. On AArch64 in
// NEON float lanes, the scales of four groups at a time moved from the caller's rows into
// group-major vectors (one load per column and a 4 x 4 transpose instead of a load per column and
// group); on Armv7 in scalar VFP code.
template <int NR, class K, bool One, bool General>
__attribute__((always_inline)) LOWBIT_GEMV_GROUPED_TARGET inline void groups_loop(
    const group_args& ga) noexcept {
  constexpr int Q = NR / 4;
  // Absent terms read a zero row (stride 0) rather than branch.
  const std::uint32_t zero[NR] = {};
  const std::uint32_t* col_t = ga.col_terms != nullptr ? ga.col_terms : zero;
  const std::uint32_t* col_x = ga.col_x != nullptr ? ga.col_x : zero;
  const std::size_t t_stride = ga.col_terms != nullptr ? NR : 0;
  const std::size_t x_stride = ga.col_x != nullptr ? NR : 0;
  uint32x4_t ahead[Q];
  if (One) K::template sums<true>(ga.kc, ga.a, ga.w, ahead);
#if defined(__aarch64__)
  float32x4_t facc[Q];
#pragma GCC unroll 4
  for (int q = 0; q < Q; ++q) facc[q] = vdupq_n_f32(0.0f);
#else
  float facc[NR] = {};
#endif
  for (std::size_t g0 = 0; g0 < ga.groups; g0 += 4) {
    const std::size_t gn = ga.groups - g0 < 4 ? ga.groups - g0 : 4;
#if defined(__aarch64__)
    float32x4_t sb[4][Q];  // sb[x][q]: group g0 + x, columns 4q..4q+3
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
        const float32x4_t t0 = vtrn1q_f32(r[0], r[1]), t1 = vtrn2q_f32(r[0], r[1]);
        const float32x4_t t2 = vtrn1q_f32(r[2], r[3]), t3 = vtrn2q_f32(r[2], r[3]);
        const float64x2_t d0 = vreinterpretq_f64_f32(t0), d1 = vreinterpretq_f64_f32(t1);
        const float64x2_t d2 = vreinterpretq_f64_f32(t2), d3 = vreinterpretq_f64_f32(t3);
        sb[0][q] = vreinterpretq_f32_f64(vtrn1q_f64(d0, d2));
        sb[1][q] = vreinterpretq_f32_f64(vtrn1q_f64(d1, d3));
        sb[2][q] = vreinterpretq_f32_f64(vtrn2q_f64(d0, d2));
        sb[3][q] = vreinterpretq_f32_f64(vtrn2q_f64(d1, d3));
      }
    } else {  // the last column tile or the last groups: nothing past cols or groups is read
      float buf[4][NR] = {};
      for (std::size_t x = 0; x < gn; ++x)
        for (std::size_t j = 0; j < ga.cols; ++j) buf[x][j] = ga.scales[j * ga.scale_col + g0 + x];
      for (std::size_t x = 0; x < gn; ++x)
#pragma GCC unroll 4
        for (int q = 0; q < Q; ++q) sb[x][q] = vld1q_f32(buf[x] + 4 * q);
    }
#endif
    for (std::size_t x = 0; x < gn; ++x) {
      const std::size_t g = g0 + x;
      uint32x4_t s[Q];
      if (One) {
        const std::size_t gx = g + 1 < ga.groups ? g + 1 : g;  // the last: itself, unused
#pragma GCC unroll 4
        for (int q = 0; q < Q; ++q) s[q] = ahead[q];
        K::template sums<true>(ga.kc, ga.a + gx * ga.a_stride, ga.w + gx * ga.w_stride, ahead);
      } else {
        K::sums(g + 1 < ga.groups ? ga.kc : ga.k_last, ga.a + g * ga.a_stride,
                ga.w + g * ga.w_stride, s);
      }
      const std::uint32_t y = ga.row_y[g], pr = ga.row_p[g];
#if !defined(__aarch64__)
      std::uint32_t t[NR];
#endif
#pragma GCC unroll 4
      for (int q = 0; q < Q; ++q) {
        uint32x4_t v = s[q];
        if (General)
          v = vmlaq_n_u32(vmulq_n_u32(v, ga.alpha), vld1q_u32(col_x + g * x_stride + 4 * q), y);
        v = vaddq_u32(vaddq_u32(v, vdupq_n_u32(pr)), vld1q_u32(col_t + g * t_stride + 4 * q));
#if defined(__aarch64__)
        float32x4_t prod = vmulq_f32(sb[x][q], vcvtq_f32_s32(vreinterpretq_s32_u32(v)));
        __asm__("" : "+w"(prod));  // rounded on its own: no FMA with the add
        facc[q] = vaddq_f32(facc[q], prod);
#else
        vst1q_u32(t + 4 * q, v);
#endif
      }
#if !defined(__aarch64__)
      for (std::size_t j = 0; j < NR; ++j) {
        const float sc = j < ga.cols ? ga.scales[j * ga.scale_col + g * ga.scale_group] : 0.0f;
        float prod = sc * static_cast<float>(static_cast<std::int32_t>(t[j]));
#if defined(__GNUC__) || defined(__clang__)
        __asm__("" : "+t"(prod));  // rounded on its own: no FMA with the add
#endif
        facc[j] = facc[j] + prod;
      }
#endif
    }
  }
#if defined(__aarch64__)
#pragma GCC unroll 4
  for (int q = 0; q < Q; ++q) vst1q_f32(ga.acc + 4 * q, facc[q]);
#else
  std::memcpy(ga.acc, facc, sizeof(facc));
#endif
}

// The kernel's run_grouped: the loop for its case (one-block groups or not; alpha or x present).
template <int NR, class K>
__attribute__((always_inline)) LOWBIT_GEMV_GROUPED_TARGET inline void run_grouped(
    const group_args& ga) noexcept {
  const bool general = ga.alpha != 1 || ga.col_x != nullptr;
  if (ga.kc <= K::KS)
    general ? groups_loop<NR, K, true, true>(ga) : groups_loop<NR, K, true, false>(ga);
  else
    general ? groups_loop<NR, K, false, true>(ga) : groups_loop<NR, K, false, false>(ga);
}

#undef LOWBIT_GEMV_GROUPED_TARGET
