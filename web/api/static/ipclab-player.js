// <ipclab-player>: one ipclab scenario in any page, with its controls and pictures (the player page,
// embed.html, in an iframe sized to the element) and a link that opens the run in the playground.
//
//   <script type="module" src="api/ipclab-player.js"></script>
//   <ipclab-player link="v1.…"></ipclab-player>                  a share link, as the playground makes it
//   <ipclab-player step="3" policy="random" seed="7">             or the scenario itself, as the element's
//   process parent { … }                                          text (or its `scenario` attribute)
//   </ipclab-player>
//
// Attributes: `link`, or `scenario` (else the element's text), `step`, `seed`, `policy` ("round-robin"
// or "random"), and `editor` to show the editor. The element is 480 px high unless styled otherwise.
// A scenario given as text is made into a link by the JavaScript module beside this file (ipclab.js);
// a mistake in the attributes is shown in the element instead of the player.

const playerPage = new URL("../embed.html", import.meta.url);
let module = null;

async function api() {
  if (!module) {
    const loaded = await import(new URL("ipclab.js", import.meta.url).href);
    await loaded.default();
    module = loaded;
  }
  return module;
}

function wholeNumber(element, name) {
  const text = element.getAttribute(name);
  if (text === null) return 0;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Error(`the ${name} attribute must be a whole number from 0, not ${JSON.stringify(text)}`);
  }
  return value;
}

class IpclabPlayer extends HTMLElement {
  static observedAttributes = ["link", "scenario", "step", "seed", "policy", "editor"];

  constructor() {
    super();
    const root = this.attachShadow({ mode: "open" });
    root.innerHTML =
      "<style>:host{display:block;height:480px;border:1px solid #d0d4dc;border-radius:6px;overflow:hidden}" +
      "iframe{display:block;width:100%;height:100%;border:0}" +
      "p{margin:0;padding:12px;font:14px system-ui,sans-serif;color:#a11}</style>" +
      '<iframe title="ipclab player" loading="lazy"></iframe><p hidden></p>';
    this.frame = root.querySelector("iframe");
    this.problem = root.querySelector("p");
  }

  connectedCallback() {
    this.show();
  }

  attributeChangedCallback() {
    if (this.isConnected) this.show();
  }

  async show() {
    try {
      let link = this.getAttribute("link");
      if (link === null) {
        const scenario = this.getAttribute("scenario") ?? this.textContent;
        const policy = this.getAttribute("policy") ?? "round-robin";
        const run = { scenario, seed: wholeNumber(this, "seed"), policy, choices: [], step: wholeNumber(this, "step") };
        link = (await api()).encodeShareLink(run);
      }
      const page = new URL(playerPage);
      if (this.hasAttribute("editor")) page.search = "?editor";
      page.hash = link.slice(link.indexOf("#") + 1);
      this.problem.hidden = true;
      this.frame.hidden = false;
      this.frame.src = page.href;
    } catch (error) {
      this.frame.hidden = true;
      this.problem.hidden = false;
      this.problem.textContent = "ipclab-player: " + (error && error.message ? error.message : error);
    }
  }
}

customElements.define("ipclab-player", IpclabPlayer);
