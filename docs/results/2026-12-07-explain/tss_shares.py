"""Per group (expressed, silent) and mark: the share of the summed mean |attribution|, the share of the TSS
bins' (within a twentieth of the window of the TSS: bins 45–54 of the 100-bin samples, ±500 bp; bins 9–11 of
E116's 21, ±15 kb), and the signed sums, from explain's CELL-METHOD.mean.csv."""
import collections
import csv
import sys

rows = list(csv.DictReader(open(sys.argv[1])))
bins = max(int(r['bin']) for r in rows) + 1
TSS = [b for b in range(bins) if abs(b + 0.5 - bins / 2) <= max(1, bins / 20)]
print(sys.argv[1])
for group in ['expressed', 'silent']:
    g = [r for r in rows if r['group'] == group]
    total, tss, signed, signed_tss = (collections.defaultdict(float) for _ in range(4))
    for r in g:
        b, a, s = int(r['bin']), float(r['mean_abs_attribution']), float(r['mean_attribution'])
        total[r['mark']] += a
        signed[r['mark']] += s
        if b in TSS:
            tss[r['mark']] += a
            signed_tss[r['mark']] += s
    print(f"{group} ({g[0]['genes']} genes)")
    print('  mark       share of |a|  share at TSS  signed sum  signed at TSS')
    for m in sorted(total, key=lambda m: -total[m]):
        print(f"  {m:9s}  {100 * total[m] / sum(total.values()):10.1f}%  {100 * tss[m] / sum(tss.values()):11.1f}%  {signed[m]:+10.3g}  {signed_tss[m]:+12.3g}")
