# bitcompare.py BEFORE AFTER: every model's metrics (timing-free) and predictions, before and after, bit for bit.
import json, sys, os, re
b, a = sys.argv[1], sys.argv[2]
KEYS = ['history', 'bestEpoch', 'valid', 'test', 'vaeHistory', 'parameters', 'l2Penalty', 'weightSearch', 'neighbors', 'derivedFeatures', 'labeledTrainingGenes', 'validGenes', 'testGenes', 'normalization']
TIMING = re.compile(r'seconds|persecond|time|ms$', re.I)
def strip(x):
    if isinstance(x, dict): return {k: strip(v) for k, v in x.items() if not TIMING.search(k)}
    if isinstance(x, list): return [strip(v) for v in x]
    return x
def preds(path):
    rows = open(path).read().strip().split('\n')
    return [','.join(r.split(',')[:3]) for r in rows]
ok = True
for m in sorted(os.listdir(b)):
    mb, ma = os.path.join(b, m, 'metrics.json'), os.path.join(a, m, 'metrics.json')
    if not os.path.exists(mb): continue
    if not os.path.exists(ma): print(f'{m}: missing after'); ok = False; continue
    jb, ja = json.load(open(mb)), json.load(open(ma))
    diffs = [k for k in KEYS if strip(jb.get(k)) != strip(ja.get(k))]
    pb, pa = preds(os.path.join(b, m, 'predictions.csv')), preds(os.path.join(a, m, 'predictions.csv'))
    same_preds = pb == pa
    line = f"{m:20s} test AUROC {jb['test'].get('auroc', jb['test'].get('pearson'))!r:22} {'same' if not diffs else 'DIFFER: ' + ','.join(diffs)}; predictions.csv ({len(pb)-1} genes) {'same' if same_preds else 'DIFFER'}"
    print(line)
    ok = ok and not diffs and same_preds
print('ALL SAME' if ok else 'SOME DIFFER')
