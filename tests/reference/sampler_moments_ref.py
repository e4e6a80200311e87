# Independent float64 reference (NumPy) for the expected sampler moments in tests/unit/diffusion-samplers.test.ts.
# The mixture case is a 10^6-sample simulation of the same algorithms; the Gaussian case is propagated in closed form by gaussian_closed_form_ref.py.
import numpy as np, sys
T=1000
b=np.linspace(1e-4,0.02,T); ab=np.cumprod(1-b)
def ts(steps, spacing, solver=False):
    p = steps+1 if solver else steps
    if spacing=='linspace': t=np.round(np.linspace(0,T-1,p))[::-1].astype(int)
    elif spacing=='leading': t=(np.arange(p)*(T//p))[::-1]
    else: return (np.round(T - np.arange(steps)*T/steps)-1).astype(int)
    return t[:steps]
G=[(1.0,0.4,0.5)]
M=[(0.3,-0.5,0.15),(0.7,0.5,0.2)]
def post(mix,x,a):
    sa,so=np.sqrt(a),np.sqrt(1-a)
    L=[];X=[];E=[]
    for w,m,s in mix:
        v=a*s*s+1-a; d=x-sa*m
        L.append(np.log(w)-0.5*np.log(v)-d*d/(2*v)); X.append(m+sa*s*s*d/v); E.append(so*d/v)
    L=np.array(L); L-=L.max(0); e=np.exp(L); e/=e.sum(0)
    return (e*np.array(X)).sum(0),(e*np.array(E)).sum(0)
def run(mix, kind, steps, spacing, eta=0, var='bt', n=10**6, seed=0):
    rng=np.random.default_rng(seed); x=rng.standard_normal(n)
    t_=ts(steps,spacing, kind=='dpm'); prev=None
    lam=lambda a: 0.5*(np.log(a)-np.log1p(-a)) if a<1 else np.inf
    for i,t in enumerate(t_):
        a=ab[t]; ap=ab[t_[i+1]] if i+1<len(t_) else 1.0
        x0,eps=post(mix,x,a)
        if kind=='ddim':
            sig=eta*np.sqrt((1-ap)/(1-a)*(1-a/ap)); d=np.sqrt(max(1-ap-sig**2,0))
            x=np.sqrt(ap)*x0+d*eps+(sig*rng.standard_normal(n) if sig>0 else 0)
        elif kind=='ddpm':
            al=a/ap; be=1-al
            mean=np.sqrt(ap)*be/(1-a)*x0+np.sqrt(al)*(1-ap)/(1-a)*x
            v=(be if var=='b' else (1-ap)/(1-a)*be) if ap<1 else 0
            x=mean+(np.sqrt(v)*rng.standard_normal(n) if v>0 else 0)
        else:
            ls,lt=lam(a),lam(ap); h=lt-ls; D=x0
            if prev is not None and ap<1:
                r=(ls-prev[1])/h; D=x0+0.5/r*(x0-prev[0])
            x=np.sqrt(1-ap)/np.sqrt(1-a)*x - np.sqrt(ap)*np.expm1(-h)*D
            prev=(x0,ls)
    return x
def stats(x):
    n=len(x); m=x.mean(); v=x.var(); p=(x>0).mean()
    m4=((x-m)**4).mean()
    return m, v, p, np.sqrt(v/n), np.sqrt((m4-v*v)/n), np.sqrt(p*(1-p)/n)
cases=[('ddpm',1000,'linspace',0,'bt'),('ddpm',1000,'linspace',0,'b'),('ddim',50,'linspace',0,''),('ddim',50,'linspace',1,''),('ddim',10,'linspace',0,''),('ddim',10,'linspace',1,''),('dpm',10,'linspace',0,''),('dpm',20,'linspace',0,'')]
which=sys.argv[1] if len(sys.argv)>1 else 'all'
for c in cases:
    if which!='all' and c[0]!=which: continue
    for name,mix in [('gauss',G),('mix',M)]:
        n = 10**6 if c[0]=='ddpm' else 4*10**6
        x=run(mix,c[0],c[1],c[2],eta=c[3],var=c[4],n=n)
        m,v,p,sm,sv,sp=stats(x)
        print(f"{c[0]}{c[1]} eta={c[3]} {c[4]} {name}: mean {m:.5f}±{sm:.5f} var {v:.5f}±{sv:.5f} P>0 {p:.5f}±{sp:.5f}", flush=True)
