// The demo page's left side: the post's thread as the local Discord holds it, read every two
// seconds from /demo/thread.json, and the form sent without leaving the page.
"use strict";

const REFRESH_MS = 2000;
const seen = new Set();

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function renderMessage(message) {
  const item = element("li", "message");
  item.id = `message-${message.id}`;
  if (!seen.has(message.id)) {
    if (seen.size > 0) item.classList.add("fresh");
    seen.add(message.id);
  }
  if (message.reply_to) {
    item.append(element("div", "reply", `↪ ${message.reply_to.author}: ${message.reply_to.content}`));
  }
  const head = element("div", "head");
  head.append(element("span", "author", message.author));
  if (message.bot || message.webhook) head.append(element("span", "tag", message.webhook ? "WEB" : "BOT"));
  head.append(element("time", "time", new Date(message.at).toLocaleTimeString()));
  if (message.edited) head.append(element("span", "edited", "(edited)"));
  item.append(head);
  if (message.content) item.append(element("div", "content", message.content));
  for (const embed of message.embeds) {
    const box = element("div", "embed");
    if (embed.title) box.append(element("strong", "", embed.title));
    if (embed.description) box.append(element("div", "content", embed.description));
    item.append(box);
  }
  if (message.reactions.length) {
    const reactions = element("div", "reactions");
    for (const reaction of message.reactions) {
      reactions.append(element("span", "", `${reaction.emoji} ${reaction.count}`));
    }
    item.append(reactions);
  }
  return item;
}

async function refresh() {
  try {
    const answer = await fetch("/demo/thread.json", { cache: "no-store" });
    if (!answer.ok) return;
    const view = await answer.json();
    if (!view.thread) return;
    document.getElementById("thread-name").textContent = view.thread.name;
    document.getElementById("thread-empty").hidden = true;
    const list = document.getElementById("thread");
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.replaceChildren(...view.messages.map(renderMessage));
    if (atBottom) list.scrollTop = list.scrollHeight;
  } catch (error) {
    // The demo stopped or restarts: the next round tries again.
  }
}

async function send(event) {
  event.preventDefault();
  const form = event.target;
  const status = document.getElementById("write-status");
  status.textContent = "sending…";
  const answer = await fetch(form.action, { method: "POST", body: new FormData(form) });
  if (answer.ok) {
    form.reset();
    status.textContent = "sent: watch it reach the site";
    refresh();
  } else {
    status.textContent = await answer.text();
  }
}

document.querySelector("form.write").addEventListener("submit", send);
refresh();
setInterval(refresh, REFRESH_MS);
