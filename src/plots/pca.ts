// Principal components of a small matrix of rows (genes × latent), in float64:
// the covariance is latent × latent (10 × 10 by default), so a cyclic Jacobi
// eigen-solver is exact enough and needs no library.

export interface Projection {
  /** [rows, components], row-major. */
  readonly points: Float64Array;
  readonly components: number;
  /** Share of the total variance along each component. */
  readonly explained: readonly number[];
}

/** Eigenvalues (descending) and unit eigenvectors (columns of `vectors`, n × n row-major) of a symmetric matrix. */
export function symmetricEigen(matrix: Float64Array, n: number): { values: number[]; vectors: Float64Array } {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += (a[p * n + q] as number) ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q] as number;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = ((a[q * n + q] as number) - (a[p * n + p] as number)) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p] as number;
          const akq = a[k * n + q] as number;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k] as number;
          const aqk = a[q * n + k] as number;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p] as number;
          const vkq = v[k * n + q] as number;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => (a[j * n + j] as number) - (a[i * n + i] as number));
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    // Sign fixed so the largest entry is positive: the same data always gives the same picture.
    let big = 0;
    for (let k = 0; k < n; k++) if (Math.abs(v[k * n + src] as number) > Math.abs(big)) big = v[k * n + src] as number;
    const sign = big < 0 ? -1 : 1;
    for (let k = 0; k < n; k++) vectors[k * n + dst] = sign * (v[k * n + src] as number);
  });
  return { values: order.map((i) => a[i * n + i] as number), vectors };
}

/** Projects rows [rows, width] onto their first `components` principal axes. */
export function pca(data: ArrayLike<number>, width: number, components = 2): Projection {
  const rows = data.length / width;
  if (!Number.isInteger(rows) || rows < 1) throw new Error(`pca: ${data.length} values do not make rows of ${width}`);
  if (components > width) throw new Error(`pca: ${components} components asked of ${width}-wide rows`);
  const mean = new Float64Array(width);
  for (let r = 0; r < rows; r++) for (let j = 0; j < width; j++) mean[j] += (data[r * width + j] as number) / rows;
  const cov = new Float64Array(width * width);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < width; i++) {
      const di = (data[r * width + i] as number) - (mean[i] as number);
      for (let j = i; j < width; j++) cov[i * width + j] += di * ((data[r * width + j] as number) - (mean[j] as number));
    }
  }
  for (let i = 0; i < width; i++) {
    for (let j = i; j < width; j++) {
      const c = (cov[i * width + j] as number) / Math.max(1, rows - 1);
      cov[i * width + j] = c;
      cov[j * width + i] = c;
    }
  }
  const { values, vectors } = symmetricEigen(cov, width);
  const total = values.reduce((a, b) => a + Math.max(0, b), 0);
  const points = new Float64Array(rows * components);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < components; c++) {
      let s = 0;
      for (let j = 0; j < width; j++) s += ((data[r * width + j] as number) - (mean[j] as number)) * (vectors[j * width + c] as number);
      points[r * components + c] = s;
    }
  }
  return { points, components, explained: values.slice(0, components).map((v) => (total > 0 ? Math.max(0, v) / total : 0)) };
}
