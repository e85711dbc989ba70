"""The site's one stylesheet (``site/style.css``): system fonts only, no external resource."""

CSS = """
:root{--fg:#1c2430;--muted:#5d6876;--line:#e2e6eb;--bg:#f6f7f9;--head:#1f2e3f;--link:#1f5f99;
--ok:#17692e;--ok-bg:#dff3e5;--part:#1d5b94;--part-bg:#e2edf9;--no:#a5231a;--no-bg:#fbe4e2;
--inc:#7d5500;--inc-bg:#fcf0cf}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);
font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans",sans-serif}
a{color:var(--link);text-decoration:none}a:hover{text-decoration:underline}
code{font:.88em ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#eef1f4;padding:0 .25em;
border-radius:3px;word-break:break-all}
.wrap{max-width:1200px;margin:0 auto;padding:0 1.25em}
header.top{background:var(--head);color:#fff;padding:1.1em 0 1em}
header.top h1{margin:0;font-size:1.45em;font-weight:600;letter-spacing:.01em}
header.top .sub{color:#c5d0dc;font-size:.9em;margin-top:.25em}
header.top a{color:#fff}
header.top .crumb{font-size:.85em;margin-bottom:.3em}header.top .crumb a{color:#c5d0dc}
main{padding:.4em 0 3em}
h2{font-size:1.2em;margin:0 0 .15em;font-weight:600}
h3{font-size:1.05em;margin:1.6em 0 .6em;padding-bottom:.25em;border-bottom:1px solid var(--line)}
.muted{color:var(--muted)}.small{font-size:.86em}.nowrap{white-space:nowrap}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:1em 1.25em;margin:1.1em 0;
box-shadow:0 1px 2px rgba(20,30,40,.04)}
.card.planned{background:#fbfbfc;color:var(--muted)}
.cardhead{display:flex;justify-content:space-between;gap:1em;align-items:baseline;flex-wrap:wrap}
.badge{display:inline-block;padding:.08em .6em;border-radius:1em;font-size:.78em;font-weight:600;
white-space:nowrap;line-height:1.5}
.v-reproduced{background:var(--ok-bg);color:var(--ok)}
.v-partly-reproduced{background:var(--part-bg);color:var(--part)}
.v-not-reproduced{background:var(--no-bg);color:var(--no)}
.v-inconclusive{background:var(--inc-bg);color:var(--inc)}
.mode{background:var(--head);color:#fff;text-transform:uppercase;letter-spacing:.05em}
header.top .mode{background:#fff;color:var(--head)}
.mode-full,header.top .mode-full{background:#ffd75e;color:var(--head)}
.counts .badge{margin-right:.3em}
.kind{background:#eef1f5;color:var(--muted);font-weight:500}
.kind-extension{background:#ece6f7;color:#5b3f94}
blockquote.source{margin:.3em 0 .5em;padding:.2em .7em;border-left:3px solid var(--line);font-style:italic}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;vertical-align:top;padding:.45em .6em;border-bottom:1px solid var(--line)}
th{font-weight:600;font-size:.85em;color:var(--muted);background:#f3f5f8}
table.overview td.n{text-align:center;font-variant-numeric:tabular-nums}
table.overview td.n.zero{color:#b7bec7}
table.glance{font-size:.9em;margin-top:.6em}
table.glance td{padding:.3em .6em}
table.glance td.id{white-space:nowrap;width:1%}table.glance td.v{width:1%}
table.glance td.num{color:var(--muted);font-size:.92em}
.thumbs{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:.6em;margin-top:.9em}
.thumbs a{display:block;border:1px solid var(--line);border-radius:6px;padding:.35em;background:#fff;
color:var(--muted);font-size:.76em;line-height:1.3}
.thumbs a:hover{border-color:#aab6c3;text-decoration:none}
.thumbs img{display:block;width:100%;height:105px;object-fit:contain;margin-bottom:.3em}
.fig{display:grid;grid-template-columns:minmax(0,11fr) minmax(0,9fr);gap:1.4em;align-items:start}
.fig img{display:block;width:100%;height:auto;border:1px solid var(--line);border-radius:4px;background:#fff}
.fig .text p{margin:.2em 0 .8em}
.fig .label{font-size:.78em;font-weight:600;text-transform:uppercase;letter-spacing:.05em;color:var(--muted)}
.fig.wide{grid-template-columns:1fr;gap:.8em}
.fig.wide .text{display:grid;grid-template-columns:repeat(auto-fit,minmax(280px,1fr));gap:0 1.6em}
.fig.wide .text .head{grid-column:1/-1;margin-bottom:.5em}
.fig .head{margin-bottom:.6em}
@media (max-width:820px){.fig{grid-template-columns:1fr}}
table.claims{font-size:.88em;background:#fff;table-layout:fixed;border:1px solid var(--line)}
table.claims td.v{white-space:nowrap}
table.claims tr.head td{border-bottom:none;padding-top:.7em}
table.claims tr.more td{color:#39434f;font-size:.94em;padding:0 .6em .8em;border-bottom:2px solid var(--line)}
table.claims tr.more p{margin:.25em 0}
table.claims tbody:target{outline:2px solid #ffd75e}
table.claims ul{margin:0;padding-left:1.1em}
table.claims .label{display:inline-block;min-width:8.5em;font-size:.8em;font-weight:600;text-transform:uppercase;
letter-spacing:.04em;color:var(--muted)}
.revised{margin:.35em 0;padding:.3em .5em;background:#fff8e1;border-left:3px solid #e0b100}
header.top code{background:rgba(255,255,255,.14);color:#fff}
details{margin-top:.35em}summary{cursor:pointer;color:var(--link);font-size:.95em}
dl.prov{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.3em 1.2em;margin:0}
dl.prov dt{color:var(--muted)}dl.prov dd{margin:0}
footer{color:var(--muted);font-size:.82em;padding:1.5em 0;border-top:1px solid var(--line)}
"""
