// Starts the page (index.html, the playground, and embed.html, the player) on its first module, which
// leaves out the System V and POSIX message queues and semaphores, shared memory, sockets, poll/select/epoll
// and the teaching modes. When a
// scenario or a choice needs them, that module calls `window.ipclab.loadFull`: the full module (full/)
// is fetched and takes over what was on screen (`window.ipclab.handover`, see web/src/state/handover.rs).
//
// Nothing typed is lost on the way. The first module stops answering but its elements stay in the page,
// so keys pressed while the full module starts still land in its editor. The full module draws on a
// fresh element outside the page; when it has drawn, the fresh element takes the first one's place, with
// the keyboard focus and the selection where they were, and the keys that arrived meanwhile are made
// again as an edit in the full module.
const app = document.getElementById('app');
const what = app.dataset.name || 'playground';
const ipclab = (window.ipclab = window.ipclab || {});
let first = null;

ipclab.loadFull = () => {
  ipclab.loadFull = () => {};
  import('./full/web.js').then(async (full) => {
    await full.default();
    first.stop();
    const editorText = () => {
      const editor = app.querySelector('#editor');
      return editor ? editor.value : null;
    };
    const before = editorText();
    const fresh = app.cloneNode(false);
    ipclab.started = () => {
      const active = document.activeElement;
      const id = active && app.contains(active) ? active.id : null;
      const selection = active && typeof active.selectionStart === 'number'
        ? [active.selectionStart, active.selectionEnd] : null;
      const typed = editorText();
      app.replaceWith(fresh);
      first.discard();
      const editor = fresh.querySelector('#editor');
      if (editor && typed !== null && typed !== before && editor.value !== typed) {
        editor.value = typed;
        editor.dispatchEvent(new Event('input', { bubbles: true }));
      }
      const element = id && document.getElementById(id);
      if (element) {
        element.focus();
        if (selection && element.setSelectionRange) element.setSelectionRange(selection[0], selection[1]);
      }
    };
    full.start(fresh);
  }).catch((error) => {
    document.getElementById('app').textContent = `The rest of the ${what} (message queues, semaphores and `
      + `the teaching modes) could not be loaded: ${error}. Reloading the page tries again.`;
  });
};

import('./web.js').then(async (module) => {
  await module.default();
  first = module;
  module.start();
}).catch((error) => {
  document.getElementById('app').textContent = `The ${what} could not start: ${error}`;
});
