/** The page's HTML and its Content-Security-Policy (no inline script, no CDN: everything from this origin). */
import { createHash } from 'node:crypto';
import { RESEARCH_NOTICE } from '../models/defaults.js';

const PAGE_STYLE = `
body{font:14px system-ui,sans-serif;margin:0;background:#111;color:#eee}
#notice{position:sticky;top:0;background:#7a1f1f;color:#fff;padding:6px 12px;font-weight:600;z-index:1}
main{display:flex;gap:16px;padding:12px;flex-wrap:wrap}
#left{flex:0 0 520px}#right{flex:1;min-width:320px;display:flex;flex-direction:column;gap:8px}
#drop{border:2px dashed #666;padding:16px;text-align:center;margin-bottom:8px}#drop.over{border-color:#4af}
canvas{background:#000;width:512px;height:auto;cursor:crosshair;display:block}
textarea,input[type=password],input[type=text]{width:100%;box-sizing:border-box}
fieldset{border:1px solid #444}
.bar{display:flex;align-items:center;gap:6px;margin:2px 0}.bar span{width:160px}.bar i{display:block;height:14px;background:#4af}
.case{border-top:1px solid #333;padding:4px 0}.sentence a{color:#4af}
.ru{color:#f99;font-size:12px;font-style:italic}
#gallery{display:flex;flex-wrap:wrap;gap:8px;margin-top:8px}
.card{width:120px;border:1px solid #444;padding:4px;cursor:pointer;font-size:12px}.card.current{border-color:#4af}
.card img{width:112px;height:112px;object-fit:contain;background:#000;display:block}
table{border-collapse:collapse}td,th{border-bottom:1px solid #333;padding:2px 6px;text-align:left}
tr.pick{cursor:pointer}tr.pick:hover,tr.pick.current{background:#233}
progress{width:100%}
#denseStage{position:relative;width:512px;margin-top:6px}#denseStage img{display:block;width:512px;height:auto}
#denseStage canvas{position:absolute;left:0;top:0;width:100%;height:100%;background:transparent;cursor:default;pointer-events:none}
#denseLegend{display:flex;align-items:center;gap:8px;font-size:12px}#denseLegend canvas{width:128px;height:12px;background:transparent;cursor:default}
`;

/** CSP of the page: scripts, workers and connections from this origin only, its one inline style by hash; WASM allowed to compile, no eval. */
export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self' blob:",
  "img-src 'self' data: blob:",
  `style-src 'self' 'sha256-${createHash('sha256').update(PAGE_STYLE, 'utf8').digest('base64')}'`,
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** The page. */
export function pageHtml(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>medvlm</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
</head><body>
<header id="notice" role="note">${esc(RESEARCH_NOTICE)}</header>
<main>
<section id="left">
  <div id="drop" tabindex="0">Drop DICOM series, a folder, NIfTI, PNG or JPEG files here, or
    <label>open files <input id="file" type="file" multiple></label>
    <label>open a folder <input id="folder" type="file" webkitdirectory multiple></label></div>
  <div id="viewer"><canvas id="canvas" width="512" height="512"></canvas>
    <div id="pixel">&nbsp;</div>
    <div id="controls">
      <label><span id="frameKind">Frame/slice</span> <input id="frame" type="range" min="0" max="0" value="0"> <span id="frameNo">0</span></label>
      <label>Window <select id="preset"><option value="auto">auto</option><option value="file">file</option><option value="lung">lung</option><option value="mediastinum">mediastinum</option><option value="bone">bone</option><option value="brain">brain</option><option value="abdomen">abdomen</option><option value="liver">liver</option></select></label>
      <span id="wl"></span>
    </div>
  </div>
  <div id="gallery" aria-label="opened series and images"></div>
</section>
<section id="right">
  <fieldset><legend>Where the model runs</legend>
    <label><input type="radio" name="mode" value="server" checked> run on the server</label>
    <label><input type="radio" name="mode" value="browser"> run in this browser (no image byte leaves the page)</label>
  </fieldset>
  <label>Labels (comma-separated) <textarea id="labels" rows="3">chest x-ray, head CT, abdomen CT, brain MRI</textarea></label>
  <details id="ensemble"><summary>Prompt ensemble</summary>
    <label>Start from <select id="templateSet"><option value="medical">medical</option><option value="chest-xray">chest-xray</option><option value="plain">plain</option></select></label>
    <label>Templates, one per line, {} where the label goes <textarea id="templates" rows="6"></textarea></label>
  </details>
  <div><button id="classify" disabled>Classify</button> <button id="classifyAll" disabled>Classify all</button> <button id="cancelAll" disabled>Cancel</button></div>
  <progress id="progress" max="1" value="0" hidden></progress>
  <div id="status" role="status"></div>
  <div id="chart"></div>
  <fieldset id="askBox"><legend>Closed question</legend>
    <input id="question" type="text" placeholder="e.g. Is there a pleural effusion?">
    <input id="choices" type="text" placeholder="answers to choose from, comma-separated (optional)">
    <button id="ask" disabled>Ask</button>
    <div id="answer"></div>
  </fieldset>
  <fieldset id="denseBox"><legend>Where: similarity map and mask (on the server)</legend>
    <input id="denseText" type="text" value="lesion" placeholder="what to look for, e.g. lesion, polyp, tumour">
    <button id="denseMap">Map</button> <button id="denseSegment">Segment</button>
    <label>mask threshold <input id="denseThreshold" type="number" min="0.01" max="0.99" step="0.01" placeholder="model's"></label>
    <label>Overlay opacity <input id="denseOpacity" type="range" min="0" max="100" value="60"> <span id="denseOpacityValue"></span></label>
    <div id="denseStatus" role="status"></div>
    <div id="denseStage" hidden><img id="denseView" alt="the view the model saw"><canvas id="denseOverlay" width="1" height="1" aria-label="overlay"></canvas></div>
    <div id="denseLegend"></div>
    <p id="denseNotice" class="ru">${esc(RESEARCH_NOTICE)}</p>
  </fieldset>
  <div id="indexTools" hidden>
    <button id="similar" disabled>Similar cases</button> <button id="draft" disabled>Draft report</button>
    <div id="cases"></div><div id="report"></div>
  </div>
  <fieldset id="jobsBox" hidden><legend>Server jobs (folders and data sets under the server's data root)</legend>
    <label>Job <select id="jobKind"><option value="classify-folder">classify a folder (with the labels above)</option><option value="index-folder">add a folder to the index</option><option value="eval">evaluate on data sets</option></select></label>
    <input id="jobPath" type="text" placeholder="folder, relative to the data root">
    <input id="jobDatasets" type="text" placeholder="eval: data set ids, comma-separated (e.g. pneumoniamnist)">
    <button id="jobStart">Start</button> <button id="jobCancel" disabled>Cancel</button>
    <progress id="jobProgress" max="1" value="0"></progress>
    <div id="jobStatus" role="status"></div>
    <div id="jobResult"></div>
  </fieldset>
  <fieldset id="pacsBox" hidden><legend>PACS</legend>
    <input id="pacsPatient" type="text" placeholder="patient ID (wildcards * ?)">
    <input id="pacsDate" type="text" placeholder="study date YYYYMMDD or range A-B">
    <input id="pacsModality" type="text" placeholder="modality (CT, MR, ...)">
    <button id="pacsSearch">Search</button>
    <table id="pacsStudies"></table>
    <table id="pacsSeries"></table>
    <label><input id="pacsStore" type="checkbox"> store the result in the study as a DICOM SR</label>
    <button id="pacsAnalyse" disabled>Analyse series</button>
    <div id="pacsResult"></div>
  </fieldset>
</section>
</main>
<script type="module" src="/app/page.js"></script>
<style>${PAGE_STYLE}</style>
</body></html>`;
}

/** The login form shown at `/` when the server needs an API key and the browser has no session yet. */
export function loginHtml(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>medvlm: sign in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
</head><body>
<header id="notice" role="note">${esc(RESEARCH_NOTICE)}</header>
<main><section id="right">
  <p>This medvlm server needs an API key.</p>
  <label>API key <input id="key" type="password" autocomplete="off"></label>
  <button id="signin">Sign in</button>
  <div id="status" role="status"></div>
</section></main>
<script type="module" src="/app/login.js"></script>
<style>${PAGE_STYLE}</style>
</body></html>`;
}
