import numpy as np
from math import erf, sqrt
exec(open(__import__('os').path.join(__import__('os').path.dirname(__file__), 'sampler_moments_ref.py')).read().split("cases=")[0])
# For Gaussian data all samplers are x = A x_T + B + independent Gaussian noise: propagate with two "probe" runs.
def closed(kind, steps, eta=0, var='bt', mu=0.4, s=0.5):
    t_=ts(steps,'linspace', kind=='dpm')
    # state: x = a*xT + c + noise(var nv); for dpm also x0prev = a0*xT + c0 (deterministic)
    a,c,nv=1.0,0.0,0.0; prev=None
    lam=lambda q: 0.5*(np.log(q)-np.log1p(-q)) if q<1 else np.inf
    for i,t in enumerate(t_):
        A=ab[t]; Ap=ab[t_[i+1]] if i+1<len(t_) else 1.0
        v=A*s*s+1-A; k0=np.sqrt(A)*s*s/v; ke=np.sqrt(1-A)/v  # x0 = mu + k0 (x - sqrt(A) mu); eps = ke (x - sqrt A mu)
        x0a,x0c=k0*a, mu+k0*(c-np.sqrt(A)*mu); x0nv=k0*k0*nv
        ea,ec=ke*a, ke*(c-np.sqrt(A)*mu); env=ke*ke*nv
        if kind=='ddim':
            sig=eta*np.sqrt((1-Ap)/(1-A)*(1-A/Ap)); d=np.sqrt(max(1-Ap-sig**2,0))
            ca,cb=np.sqrt(Ap)*k0+d*ke, None
            a2=np.sqrt(Ap)*x0a+d*ea; c2=np.sqrt(Ap)*x0c+d*ec; nv=(np.sqrt(Ap)*k0+d*ke)**2*nv+sig**2
        elif kind=='ddpm':
            al=A/Ap; be=1-al; c1=np.sqrt(Ap)*be/(1-A); c2_=np.sqrt(al)*(1-Ap)/(1-A)
            vv=(be if var=='b' else (1-Ap)/(1-A)*be) if Ap<1 else 0
            a2=c1*x0a+c2_*a; c2=c1*x0c+c2_*c; nv=(c1*k0+c2_)**2*nv+vv
        else:
            ls,lt=lam(A),lam(Ap); h=lt-ls; Da,Dc=x0a,x0c; f=1.0
            if prev is not None and Ap<1:
                r=(ls-prev[2])/h; Da=x0a+0.5/r*(x0a-prev[0]); Dc=x0c+0.5/r*(x0c-prev[1])
            sr=np.sqrt(1-Ap)/np.sqrt(1-A); ph=-np.sqrt(Ap)*np.expm1(-h)
            a2=sr*a+ph*Da; c2=sr*c+ph*Dc
            prev=(x0a,x0c,ls)
        a,c=a2,c2
    m=c; vv=a*a+nv
    return m, vv, 0.5*(1+erf(m/sqrt(2*vv)))
for case in [('ddpm',1000,0,'bt'),('ddpm',1000,0,'b'),('ddim',50,0),('ddim',50,1),('ddim',10,0),('ddim',10,1),('dpm',10),('dpm',20)]:
    print(case, ['%.6f'%q for q in closed(*case)])
