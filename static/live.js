// Roundtable's browser side (loaded by pages/_live.py through st.html, in the page itself,
// not an iframe, so it shares the app's font and layout). Idempotent: every mount of an
// element that carries it runs it again; the first run installs one timer and one input
// listener for the whole tab, later runs only look at the DOM again.
//
// - Countdowns (.rt-countdown[data-end]) tick every half second from the deadline the
//   server drew; at zero they say "time up" (the server's follow fragment reruns the page
//   within its interval, so what the page offers follows too).
// - Drafts (.rt-draft[data-key][data-prefix][data-fields]): what a group types into the
//   new-issue form is copied to localStorage as it is typed, restored into a field that
//   is empty while the draft is not (after a reload, a return to the page, a restarted
//   server), and removed when the server says it stored the issue (data-clear).
//   Text over data-max characters is kept and a note with its length is shown.
(() => {
  const rt = (window.roundtable ??= {
    seen: new WeakSet(),
    empty: new WeakMap(),
    cleared: new Set(),
    timer: 0,
  });
  const EMPTY_TICKS = 3; // half-second ticks a field stays empty before its draft returns

  const fieldBox = (prefix, name) => document.querySelector(`.st-key-${prefix}${name}`);
  const fieldArea = (prefix, name) => fieldBox(prefix, name)?.querySelector("textarea");

  function read(key) {
    try {
      return JSON.parse(localStorage.getItem(key) || "{}");
    } catch {
      return {};
    }
  }

  // React owns the textarea's value: set it the way a keystroke would, so the widget
  // (and the form's submit) sees it.
  function typeInto(area, text) {
    const setter = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, "value").set;
    setter.call(area, text);
    area.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function tooLong(draft, name, area) {
    const max = Number(draft.dataset.max || 0);
    const box = fieldBox(draft.dataset.prefix, name);
    let note = box?.querySelector(".rt-too-long");
    const length = [...(area?.value || "")].length;
    if (!box || !max || length <= max) {
      note?.remove();
      return;
    }
    if (!note) {
      note = document.createElement("div");
      note.className = "rt-too-long";
      note.setAttribute("role", "alert");
      note.style.cssText = "color:#b3261e;font-weight:600;margin-top:0.25rem;overflow-wrap:anywhere";
      box.appendChild(note);
    }
    const text = draft.dataset.tooLong
      .replace("{length}", length.toLocaleString())
      .replace("{max}", max.toLocaleString());
    if (note.textContent !== text) note.textContent = text;
  }

  function drafts() {
    for (const draft of document.querySelectorAll(".rt-draft[data-key]")) {
      const { key, prefix, clear } = draft.dataset;
      if (clear && !rt.cleared.has(clear)) {
        rt.cleared.add(clear); // a saved issue clears its draft once, not on every look
        localStorage.removeItem(key);
      }
      const saved = read(key);
      for (const name of draft.dataset.fields.split(",")) {
        const area = fieldArea(prefix, name);
        if (!area || area.disabled) continue; // disabled: offline, it would not take it
        if (area.value !== "" || !saved[name]) {
          rt.seen.add(area);
          rt.empty.delete(area);
        } else if (!rt.seen.has(area)) {
          typeInto(area, saved[name]); // a field just drawn (a reload, a return to the page)
          if (area.value === saved[name]) rt.seen.add(area); // else React refused: retry
        } else {
          // A drawn field emptied by the server while a draft holds text: a restarted
          // server or a new session drew it again. Wait a moment first: after a save the
          // server empties the field and clears the draft in one run (data-clear above).
          const ticks = (rt.empty.get(area) || 0) + 1;
          rt.empty.set(area, ticks);
          if (ticks >= EMPTY_TICKS) {
            rt.empty.delete(area);
            typeInto(area, saved[name]);
          }
        }
        tooLong(draft, name, area);
      }
    }
  }

  function countdowns() {
    for (const box of document.querySelectorAll(".rt-countdown[data-end]")) {
      const left = Math.max(0, Math.round((Number(box.dataset.end) - Date.now()) / 1000));
      const clock = box.querySelector(".rt-clock");
      if (left > 0) {
        const h = Math.floor(left / 3600);
        const m = Math.floor((left % 3600) / 60);
        const s = String(left % 60).padStart(2, "0");
        const text = h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
        if (clock && clock.textContent !== text) clock.textContent = text;
      } else if (!box.classList.contains("rt-up")) {
        box.classList.add("rt-up");
        box.textContent = box.dataset.done;
      }
    }
  }

  function tick() {
    countdowns();
    drafts();
  }

  if (!rt.timer) {
    rt.timer = setInterval(tick, 500);
    document.addEventListener("input", (event) => {
      const area = event.target;
      // Only what a person types: a restore (untrusted) must not rewrite the draft, least
      // of all with the empty value React puts back when the widget refuses it.
      if (!event.isTrusted || !(area instanceof HTMLTextAreaElement)) return;
      for (const draft of document.querySelectorAll(".rt-draft[data-key]")) {
        const { key, prefix } = draft.dataset;
        const names = draft.dataset.fields.split(",");
        if (!names.some((name) => fieldArea(prefix, name) === area)) continue;
        const values = {};
        for (const name of names) {
          const value = fieldArea(prefix, name)?.value || "";
          if (value.trim()) values[name] = value;
        }
        if (Object.keys(values).length) localStorage.setItem(key, JSON.stringify(values));
        else localStorage.removeItem(key);
        for (const name of names) tooLong(draft, name, fieldArea(prefix, name));
      }
    });
  }
  tick();
})();
