/* threadbridge embed: a post's Discord conversation rendered into the page that loads it.

   <div id="threadbridge-comments"></div>
   <script src="https://talk.example.org/embed.js" data-url="https://example.org/post/" async></script>

   Options on the script element: data-url (the post's address; default: the page's canonical
   address, else its own), data-theme (light, dark or auto: the reader's preference).
   Elements with data-threadbridge-count="<a post's address>" get that post's comment count,
   all of them in one request.

   Comment bodies are the HTML the server sanitised, parsed in an inert template and checked
   again here; everything else goes in as text or attributes. The conversation is polled every
   few seconds with If-None-Match (an unchanged conversation costs a 304), not while the tab is
   hidden. No framework, no build step, no inline styles (a constructed stylesheet). */
(() => {
  "use strict";
  const script = document.currentScript;
  if (!script) return;
  const ORIGIN = new URL(script.src).origin;
  const POLL_MS = 3000;
  const MOST_MS = 60000;
  const TIMEOUT_MS = 8000;
  const DEEP = 3; // replies of comments this deep wait behind a button
  const SHOWN_REPLIES = 5; // beyond this many replies, the rest wait behind a button
  const FIRST_SHOWN = 3;

  const el = (tag, cls, text) => {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = text;
    return node;
  };
  const httpUrl = (value) => {
    try {
      const url = new URL(value);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
    } catch {
      return null;
    }
  };
  const link = (href, text, cls) => {
    const a = el("a", cls, text);
    a.href = href;
    a.rel = "nofollow ugc noopener";
    return a;
  };
  const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

  async function get(path, etag) {
    const headers = etag ? { "If-None-Match": etag } : {};
    const response = await fetch(ORIGIN + path, {
      headers,
      cache: "no-store",
      credentials: "omit",
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    if (response.status === 304) return { etag, data: null };
    if (!response.ok) {
      const error = new Error(`status ${response.status}`);
      error.status = response.status;
      error.wait = Number(response.headers.get("Retry-After")) * 1000 || 0;
      throw error;
    }
    return { etag: response.headers.get("ETag"), data: await response.json() };
  }

  /* Styles: scoped under the container, themed by custom properties a site may set on
     #threadbridge-comments (the defaults are in :where(), so any rule of the site wins). */
  const C = "#threadbridge-comments";
  const LIGHT =
    "--tb-text:#1d1f23;--tb-muted:#5b6270;--tb-surface:#f4f5f7;--tb-line:#dde0e5;" +
    "--tb-link:#3b4fd8;--tb-code:#eef0f3;--tb-new:#fff5c2;color-scheme:light";
  const DARK =
    "--tb-text:#e6e7ea;--tb-muted:#a3a9b5;--tb-surface:#202228;--tb-line:#353842;" +
    "--tb-link:#9aa8ff;--tb-code:#2a2d35;--tb-new:#3d3a22;color-scheme:dark";
  const STYLES = `
:where(${C}){${LIGHT}}
:where(${C}[data-tb-theme=dark]){${DARK}}
@media (prefers-color-scheme:dark){:where(${C}[data-tb-theme=auto]){${DARK}}}
${C}{color:var(--tb-text);line-height:1.55}
${C} a{color:var(--tb-link)}
${C} a:not([href]){color:inherit}
${C} :focus-visible{outline:2px solid var(--tb-link);outline-offset:2px}
${C} .tb-head{display:flex;flex-wrap:wrap;align-items:baseline;gap:.5rem 1rem}
${C} .tb-head h2{margin:0 0 .5rem;font-size:1.25em}
${C} .tb-join{font-weight:600}
${C} .tb-muted,${C} .tb-when,${C} .tb-edited,${C} .tb-gone{color:var(--tb-muted);font-size:.875em}
${C} ol,${C} ul.tb-files,${C} ul.tb-reactions{list-style:none;margin:0;padding:0}
${C} article{padding:.75rem 0}
${C} .tb-who{display:flex;align-items:center;gap:.5rem;flex-wrap:wrap}
${C} .tb-author{font-weight:600}
${C} .tb-avatar{border-radius:50%;width:32px;height:32px}
${C} .tb-when{text-decoration:none}
${C} .tb-replies{margin-left:1rem;padding-left:1rem;border-left:2px solid var(--tb-line)}
${C} .tb-body{overflow-wrap:anywhere}
${C} .tb-body p{margin:.4rem 0}
${C} .tb-body blockquote{margin:.5rem 0;padding-left:.75rem;border-left:4px solid var(--tb-line);color:var(--tb-muted)}
${C} .tb-body code{background:var(--tb-code);padding:.1em .3em;border-radius:4px;font-size:.9em}
${C} .tb-body pre{background:var(--tb-code);padding:.75rem;border-radius:6px;overflow-x:auto}
${C} .tb-body pre code{padding:0;background:none}
${C} .tb-body .mention{background:var(--tb-surface);border-radius:4px;padding:0 .2em}
${C} .tb-body .spoiler{background:var(--tb-text);color:transparent;border-radius:4px}
${C} .tb-body .spoiler:hover,${C} .tb-body .spoiler:focus{background:var(--tb-surface);color:inherit}
${C} .tb-body img{max-width:100%}
${C} .tb-body img.emoji{width:1.375em;height:1.375em;vertical-align:-.3em}
${C} .tb-files img{max-width:100%;max-height:20rem;border-radius:6px}
${C} .tb-reactions{display:flex;gap:.5rem;flex-wrap:wrap;font-size:.875em;margin-top:.25rem}
${C} .tb-reactions li{background:var(--tb-surface);border:1px solid var(--tb-line);border-radius:1rem;padding:0 .5rem}
${C} .tb-reply{font-size:.875em;margin:.25rem 0 0}
${C} .tb-more{font:inherit;font-size:.875em;color:var(--tb-link);background:none;border:1px solid var(--tb-line);border-radius:1rem;padding:.15rem .75rem;margin:.25rem 0 .5rem;cursor:pointer}
${C} .tb-sr{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}
${C} .tb-new>article{animation:tb-new 3s ease-out}
@keyframes tb-new{from{background:var(--tb-new)}}
@media (prefers-reduced-motion:reduce){${C} *{animation:none!important;transition:none!important}}`;

  function addStyles() {
    try {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(STYLES);
      document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
    } catch {
      document.head.append(el("style", null, STYLES)); // older browsers; a CSP may refuse it
    }
  }

  /* A comment's body: the server's sanitised HTML, parsed where nothing runs or loads (a
     fresh template's content), checked once more (the server's own allowlist of attributes, web
     addresses only), then moved into the page. */
  const DROP = "script,style,iframe,frame,object,embed,link,meta,base,form,input,button,svg,math,template";
  const KEEP = new Set(["href", "src", "alt", "datetime", "start", "class", "width", "height"]);
  function body(html) {
    const template = document.createElement("template");
    template.innerHTML = html;
    const root = template.content;
    for (const node of root.querySelectorAll(DROP)) node.remove();
    for (const node of root.querySelectorAll("*")) {
      for (const { name, value } of [...node.attributes]) {
        const url = name === "href" || name === "src";
        if (!KEEP.has(name) || (url && !httpUrl(value))) node.removeAttribute(name);
      }
      if (node.localName === "a") node.rel = "nofollow ugc noopener";
      if (node.localName === "img") node.loading = "lazy";
    }
    const div = el("div", "tb-body");
    div.append(document.importNode(root, true));
    return div;
  }

  const dates = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "short" });
  const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  const STEPS = [
    [60, "second"],
    [60, "minute"],
    [24, "hour"],
    [7, "day"],
    [4.35, "week"],
    [12, "month"],
    [Infinity, "year"],
  ];
  function ago(iso) {
    let amount = (Date.parse(iso) - Date.now()) / 1000;
    for (const [size, unit] of STEPS) {
      if (Math.abs(amount) < size) return relative.format(Math.round(amount), unit);
      amount /= size;
    }
    return "";
  }
  function time(iso) {
    const node = el("time", null, ago(iso));
    node.dateTime = iso;
    node.title = dates.format(new Date(iso));
    return node;
  }

  /* One post's conversation, kept up to date while it is open. */
  function conversation(container, url) {
    const state = { pages: [], known: new Set(), open: new Set(), failures: 0, thread: null };
    const live = el("p", "tb-sr");
    live.setAttribute("role", "status");
    const view = el("section", "tb");
    view.setAttribute("aria-busy", "true");
    container.replaceChildren(view, live);
    let timer = 0;
    let polling = false;

    function shownReplies(id, depth, count) {
      if (state.open.has(id)) return count; // the reader asked for them
      if (depth + 1 >= DEEP) return 0;
      return count > SHOWN_REPLIES ? FIRST_SHOWN : count;
    }

    function comment(c, depth, fresh) {
      const item = el("li", "tb-comment");
      item.id = `tb-comment-${c.id}`;
      if (fresh && !state.known.has(c.id)) item.classList.add("tb-new");
      const article = el("article");
      if (c.placeholder) {
        article.setAttribute("aria-label", "Removed comment");
        article.append(el("p", "tb-gone", "This comment is no longer shown."));
      } else {
        const name = c.author ? c.author.name : "Someone";
        article.setAttribute("aria-label", `Comment by ${name}`);
        const who = el("header", "tb-who");
        const avatar = c.author && httpUrl(c.author.avatar_url);
        if (avatar) {
          const img = el("img", "tb-avatar");
          Object.assign(img, { src: avatar, alt: "", width: 32, height: 32, loading: "lazy" });
          who.append(img);
        }
        who.append(el("span", "tb-author", name));
        const when = httpUrl(c.discord_url) ? link(c.discord_url, null, "tb-when") : el("span", "tb-when");
        when.append(time(c.created_at));
        who.append(when);
        if (c.edited_at) {
          const edited = el("span", "tb-edited", "(edited)");
          edited.title = `edited ${dates.format(new Date(c.edited_at))}`;
          who.append(edited);
        }
        article.append(who, body(c.html || ""));
        const files = (c.attachments || []).filter((f) => httpUrl(f.url));
        if (files.length) {
          const list = el("ul", "tb-files");
          for (const f of files) {
            const a = link(f.url, null);
            if ((f.content_type || "").startsWith("image/")) {
              const img = el("img");
              Object.assign(img, { src: f.url, alt: f.filename, loading: "lazy" });
              a.append(img);
            } else {
              a.textContent = f.filename;
            }
            const item = el("li");
            item.append(a);
            list.append(item);
          }
          article.append(list);
        }
        if ((c.reactions || []).length) {
          const list = el("ul", "tb-reactions");
          list.setAttribute("aria-label", "Reactions");
          for (const r of c.reactions) list.append(el("li", null, `${r.emoji} ${r.count}`));
          article.append(list);
        }
        if (httpUrl(c.discord_url)) {
          const reply = el("p", "tb-reply");
          reply.append(link(c.discord_url, "Reply on Discord"));
          article.append(reply);
        }
      }
      item.append(article);
      const replies = c.replies || [];
      if (replies.length) {
        const list = el("ol", "tb-replies");
        list.id = `tb-replies-${c.id}`;
        const shown = shownReplies(c.id, depth, replies.length);
        replies.forEach((r, n) => {
          const li = comment(r, depth + 1, fresh);
          li.hidden = n >= shown;
          list.append(li);
        });
        item.append(list);
        if (shown < replies.length) {
          const hidden = replies.length - shown;
          const label = `Show ${hidden}${shown ? " more" : ""} ${hidden === 1 ? "reply" : "replies"}`;
          const more = el("button", "tb-more", label);
          more.type = "button";
          more.setAttribute("aria-expanded", "false");
          more.setAttribute("aria-controls", list.id);
          more.addEventListener("click", () => {
            state.open.add(c.id);
            for (const li of list.children) li.hidden = false;
            more.remove();
            const next = list.children[shown].firstChild; // its article: reading goes on there
            next.tabIndex = -1;
            next.focus();
          });
          item.append(more);
        }
      }
      return item;
    }

    function render(fresh) {
      const first = state.pages[0].data;
      const post = first.post;
      state.thread = httpUrl(post.thread_url);
      const count = post.comment_count;
      const head = el("div", "tb-head");
      const heading = el("h2", null, plural(count, "comment"));
      heading.id = "tb-heading";
      head.append(heading);
      if (state.thread) head.append(link(state.thread, "Reply on Discord", "tb-join"));
      const parts = [head];
      if (post.closed) parts.push(el("p", "tb-muted", "This conversation is closed."));
      const all = state.pages.flatMap((page) => page.data.comments);
      if (all.length) {
        const list = el("ol", "tb-comments");
        for (const c of all) list.append(comment(c, 0, fresh));
        parts.push(list);
      } else {
        const empty = state.thread ? "No comments yet. Be the first, on Discord." : "No comments yet.";
        parts.push(el("p", "tb-muted", empty));
      }
      const last = state.pages[state.pages.length - 1].data;
      if (last.next_cursor) {
        const more = el("button", "tb-more", "Show more comments");
        more.type = "button";
        more.addEventListener("click", () => {
          more.disabled = true;
          load(last.next_cursor);
        });
        parts.push(more);
      }
      // Whatever the keyboard was on is found again in the new rendering.
      const active = document.activeElement;
      const focus =
        view.contains(active) && [active.closest("li")?.id, active.localName, active.className, active.textContent];
      const every = all.flatMap(walk);
      const added = fresh ? every.filter((c) => !c.placeholder && !state.known.has(c.id)).length : 0;
      state.known = new Set(every.map((c) => c.id));
      view.setAttribute("aria-labelledby", heading.id);
      view.removeAttribute("aria-busy");
      view.replaceChildren(...parts);
      if (focus) {
        const [id, tag, cls, text] = focus;
        const scope = (id && document.getElementById(id)) || view;
        const same = (n) => n.className === cls && n.textContent === text;
        const again = [...scope.querySelectorAll(tag)].find(same);
        again?.focus({ preventScroll: true });
      }
      if (added) live.textContent = plural(added, "new comment");
    }
    const walk = (c) => [c, ...(c.replies || []).flatMap(walk)];

    const path = (cursor) => {
      const query = new URLSearchParams({ url, limit: "200" });
      if (cursor) query.set("cursor", cursor);
      return `/api/v1/comments?${query}`;
    };

    async function load(cursor) {
      try {
        const got = await get(path(cursor));
        state.pages.push({ cursor, ...got });
        render(false);
      } catch (error) {
        trouble(error);
      }
    }

    async function poll() {
      clearTimeout(timer);
      timer = 0;
      if (polling) return;
      polling = true;
      let wait = POLL_MS * (0.9 + Math.random() * 0.2);
      try {
        if (!state.pages.length) {
          state.pages.push({ cursor: null, ...(await get(path(null))) });
          render(false);
        } else {
          let changed = false;
          for (const page of state.pages) {
            const got = await get(path(page.cursor), page.etag);
            if (got.data) {
              page.etag = got.etag;
              page.data = got.data;
              changed = true;
            }
          }
          if (changed) render(true);
          else for (const t of view.querySelectorAll("time")) t.textContent = ago(t.dateTime);
        }
        state.failures = 0;
        container.querySelector(".tb-down")?.remove();
      } catch (error) {
        state.failures += 1;
        wait = Math.max(error.wait || 0, Math.min(MOST_MS, POLL_MS * 2 ** state.failures));
        if (error.status === 404) wait = MOST_MS / 2;
        trouble(error);
      }
      polling = false;
      if (!document.hidden) timer = setTimeout(poll, wait);
    }

    function trouble(error) {
      if (error.status === 404 && !state.pages.length) {
        view.removeAttribute("aria-busy");
        view.replaceChildren(el("p", "tb-muted", "No comments yet."));
        return;
      }
      if (state.pages.length || container.querySelector(".tb-down")) return; // keep what is shown
      view.removeAttribute("aria-busy");
      const down = el("p", "tb-down tb-muted", "The comments cannot be loaded just now. ");
      down.append(link(state.thread || `${ORIGIN}/`, "Read the conversation there"));
      view.replaceChildren(down);
    }

    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) poll();
      else {
        clearTimeout(timer);
        timer = 0;
      }
    });
    poll();
  }

  /* Comment counts for a listing page: every [data-threadbridge-count] in one request (per
     hundred addresses). */
  async function counts() {
    const nodes = [...document.querySelectorAll("[data-threadbridge-count]")];
    const urls = [...new Set(nodes.map((n) => n.dataset.threadbridgeCount).filter(Boolean))];
    for (let at = 0; at < urls.length; at += 100) {
      const query = new URLSearchParams(urls.slice(at, at + 100).map((u) => ["url", u]));
      try {
        const { data } = await get(`/api/v1/counts?${query}`);
        for (const node of nodes) {
          const n = data.counts[node.dataset.threadbridgeCount];
          if (typeof n === "number") {
            node.textContent = plural(n, "comment");
            node.dataset.threadbridgeCountValue = n;
          }
        }
      } catch {
        // The counts stay as the page wrote them.
      }
    }
  }

  function start() {
    const container = document.getElementById("threadbridge-comments");
    if (container) {
      addStyles();
      const theme = script.dataset.theme;
      container.dataset.tbTheme = theme === "light" || theme === "dark" ? theme : "auto";
      const canonical = document.querySelector('link[rel="canonical"]');
      const url = script.dataset.url || (canonical && canonical.href) || location.href.split("#")[0];
      conversation(container, url);
    }
    counts();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
