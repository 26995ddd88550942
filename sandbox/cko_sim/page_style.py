"""Inline CSS and the optional countdown script of the hosted QPay page (no external assets)."""

from __future__ import annotations

from typing import Final

from markupsafe import Markup

#: Mobile first; logical properties so the same rules serve RTL; 3 px focus ring; 48 px touch targets.
STYLE: Final[Markup] = Markup("""
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Tahoma,Arial,sans-serif;font-size:1rem;
line-height:1.5;color:#1d1f24;background:#eef1f5;overflow-wrap:anywhere}
.bar{background:#5a1236;color:#fff;padding:.75rem 1rem;display:flex;align-items:center;
justify-content:space-between;gap:.75rem;flex-wrap:wrap}
.brand{font-size:1.25rem;font-weight:700;letter-spacing:.02em}
.secure{font-size:.875rem}
main{max-width:30rem;margin:0 auto;padding:1rem}
.card{background:#fff;border-radius:12px;padding:1rem 1.25rem;margin-block-end:1rem;
box-shadow:0 1px 3px rgba(0,0,0,.12)}
.sandbox{display:inline-block;font-size:.8125rem;background:#fff4ce;color:#5c4400;border-radius:6px;
padding:.125rem .5rem;margin-block-end:.75rem}
dl{margin:0;display:grid;grid-template-columns:auto minmax(0,1fr);gap:.375rem 1rem}
dt{color:#4a4f57}
dd{margin:0;font-weight:600;min-width:0}
.amount-row{margin:0 0 .75rem;display:flex;flex-wrap:wrap;align-items:baseline;justify-content:space-between;gap:.25rem 1rem}
.amount-row .label{color:#4a4f57}
.amount{font-size:1.75rem;font-weight:700;color:#5a1236;overflow-wrap:normal}
.countdown{margin-block-start:.75rem;padding:.5rem .75rem;border-radius:8px;background:#eef6ff;color:#0b3d75}
.countdown strong{font-variant-numeric:tabular-nums}
label{display:block;font-weight:600;margin-block:1rem .25rem}
input{display:block;width:100%;min-height:48px;padding:.625rem .75rem;font-size:1.125rem;
border:1px solid #767b85;border-radius:8px;background:#fff;color:inherit}
.actions{display:flex;flex-wrap:wrap;gap:.75rem;margin-block-start:1.25rem}
button,.button{display:inline-flex;align-items:center;justify-content:center;min-height:48px;min-width:48px;
padding:.625rem 1.5rem;font-size:1.0625rem;font-weight:600;border-radius:8px;border:2px solid #5a1236;
cursor:pointer;text-decoration:none;flex:1 1 10rem}
#pay{background:#5a1236;color:#fff}
#cancel,.button{background:#fff;color:#5a1236}
button:disabled{opacity:.55;cursor:not-allowed}
:focus-visible{outline:3px solid #0b5fff;outline-offset:3px}
input:focus,button:focus,a:focus{outline:3px solid #0b5fff;outline-offset:3px}
#decline-message{color:#8b0000;font-weight:700}
.status{font-size:1.125rem;font-weight:700}
""")

#: Ticks the server-rendered time left down once a second (the page works without it).
COUNTDOWN_SCRIPT: Final[Markup] = Markup("""
(function(){var el=document.getElementById('countdown-value');if(!el)return;
var left=parseInt(el.getAttribute('data-seconds-left'),10);if(isNaN(left))return;
var box=document.getElementById('countdown');var pay=document.getElementById('pay');
function show(s){var h=Math.floor(s/3600),m=Math.floor(s%3600/60),x=s%60;
var mm=(m<10?'0':'')+m,xx=(x<10?'0':'')+x;el.textContent=h?h+':'+mm+':'+xx:mm+':'+xx;}
var timer=setInterval(function(){left-=1;if(left<=0){left=0;clearInterval(timer);
if(box)box.textContent=box.getAttribute('data-expired-text');if(pay)pay.disabled=true;return;}show(left);},1000);
})();
""")
