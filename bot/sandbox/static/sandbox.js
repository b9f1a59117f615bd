// The Reviewbridge sandbox page: the emulated Discord server, live, and a visitor acting in it.
// Every text shown comes from strangers (blog comments!): it only ever becomes DOM through
// textContent and createElement, never innerHTML; links are http(s) only.
"use strict";

const visitor = Array.from(crypto.getRandomValues(new Uint8Array(12)),
  (b) => b.toString(16).padStart(2, "0")).join("");
const ui = {
  state: null, channelId: null, memberId: null, commands: [], replyTo: null,
  interactions: [], command: null, commandFields: [], refreshing: false, again: false,
};
const $ = (id) => document.getElementById(id);

// ----- DOM helpers -----
function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node[key] = value;
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

function safeUrl(url) {
  try {
    const parsed = new URL(String(url));
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
  } catch {
    return null;
  }
}

function link(url, ...children) {
  const href = safeUrl(url);
  if (!href) return el("span", {}, ...children);
  return el("a", { href, target: "_blank", rel: "noopener noreferrer nofollow", title: href },
    ...children);
}

function hue(text) {
  let h = 0;
  for (const ch of String(text)) h = (h * 31 + ch.codePointAt(0)) % 360;
  return h;
}

// Initials instead of a remote picture: the sandbox loads nothing from the internet.
function avatar(name, small) {
  const words = String(name || "?").replace(/[^\p{L}\p{N} ]/gu, " ").trim().split(/\s+/);
  const initials = (words.length > 1 ? words[0][0] + words[1][0] : (words[0] || "?").slice(0, 2));
  const node = el("span", { class: small ? "avatar small" : "avatar", text: initials.toUpperCase(),
    ariaHidden: "true" });
  node.style.backgroundColor = `hsl(${hue(name)}, 45%, 42%)`;
  return node;
}

function when(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleString();
}

// ----- a small, safe subset of Discord markdown -----
const INLINE = [
  { re: /\\([\\*_~`|<>#[\]().!-])/y, make: (m) => m[1] },
  { re: /`([^`\n]+)`/y, make: (m) => el("code", { text: m[1] }) },
  { re: /\[([^\]\n]{1,256})\]\((https?:\/\/[^\s)]+)\)/y, make: (m) => link(m[2], m[1]) },
  { re: /https?:\/\/[^\s<>]*[^\s<>.,;:!?'")\]]/y, make: (m) => link(m[0], m[0]) },
  { re: /<(@!?|@&|#)(\d{1,20})>/y, make: (m) => mention(m[1], m[2]) },
  { re: /<t:(-?\d{1,13})(?::[tTdDfFR])?>/y,
    make: (m) => el("span", { class: "mention", text: new Date(Number(m[1]) * 1000).toLocaleString() }) },
  { re: /\*\*([\s\S]+?)\*\*/y, tag: "strong" },
  { re: /__([\s\S]+?)__/y, tag: "u" },
  { re: /\*(?!\s)([\s\S]+?)\*/y, tag: "em" },
  { re: /_(?!\s)([\s\S]+?)_(?![\p{L}\p{N}])/uy, tag: "em" },
  { re: /~~([\s\S]+?)~~/y, tag: "s" },
  { re: /\|\|([\s\S]+?)\|\|/y, tag: "span", cls: "spoiler" },
];

function mention(kind, id) {
  const state = ui.state || { users: {}, roles: [], channels: [] };
  let text = "";
  if (kind.startsWith("@&")) {
    const role = state.roles.find((r) => r.id === id);
    text = "@" + (role ? role.name : "unknown-role");
  } else if (kind === "#") {
    const channel = allChannels().find((c) => c.id === id);
    text = "#" + (channel ? channel.name : "unknown");
  } else {
    text = "@" + (state.users[id] || "unknown-user");
  }
  return el("span", { class: "mention", text });
}

function inline(text, depth) {
  const out = document.createDocumentFragment();
  let plain = "";
  let i = 0;
  while (i < text.length) {
    let matched = null;
    for (const rule of INLINE) {
      if (rule.tag && depth > 4) continue;
      rule.re.lastIndex = i;
      const m = rule.re.exec(text);
      if (m) { matched = { rule, m }; break; }
    }
    if (!matched) { plain += text[i]; i += 1; continue; }
    if (plain) { out.append(plain); plain = ""; }
    const { rule, m } = matched;
    if (rule.make) out.append(rule.make(m));
    else {
      const node = el(rule.tag, { class: rule.cls }, inline(m[1], depth + 1));
      if (rule.cls === "spoiler") node.addEventListener("click", () => node.classList.add("shown"));
      out.append(node);
    }
    i += m[0].length;
  }
  if (plain) out.append(plain);
  return out;
}

function markdown(text) {
  const out = el("div", { class: "content" });
  const parts = String(text || "").split(/```(?:[a-z0-9+-]*\n)?/i);
  parts.forEach((part, index) => {
    if (index % 2 === 1) { out.append(el("pre", { text: part })); return; }
    const lines = part.split("\n");
    lines.forEach((line, n) => {
      const quote = /^>>?>? ?(.*)$/.exec(line);
      const heading = /^#{1,3} (.+)$/.exec(line);
      if (quote) out.append(el("span", { class: "quote" }, inline(quote[1], 0)));
      else if (heading) out.append(el("strong", {}, inline(heading[1], 0)));
      else out.append(inline(line, 0));
      if (n < lines.length - 1 && !quote) out.append("\n");
    });
  });
  return out;
}

// ----- the API -----
async function api(path, body) {
  const options = { headers: { "X-Sandbox-Visitor": visitor } };
  if (body !== undefined) {
    options.method = "POST";
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const data = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
  return data;
}

function allChannels() {
  if (!ui.state) return [];
  return ui.state.channels.flatMap((c) => [c, ...c.threads.map((t) => ({ ...t, kind: "thread",
    parent: c.id }))]);
}

function currentChannel() {
  return allChannels().find((c) => c.id === ui.channelId) || null;
}

function showError(node, error) {
  node.textContent = error ? String(error.message || error) : "";
  node.hidden = !error;
}

// ----- rendering the server -----
function renderSidebar() {
  const state = ui.state;
  $("guild-name").textContent = state.name;
  const channels = $("channels");
  channels.replaceChildren(...state.channels.filter((c) => c.kind !== "category").map((c) =>
    el("li", {},
      channelButton(c, c.kind === "forum" ? "▤ " : "# "),
      c.threads.length ? el("ul", {}, c.threads.map((t) => el("li", { class: "thread" },
        channelButton(t, "↳ ")))) : null)));
  const persona = $("persona");
  const humans = state.members.filter((m) => !m.bot);
  if (!ui.memberId || !humans.some((m) => m.id === ui.memberId)) ui.memberId = state.default_member;
  persona.replaceChildren(...humans.map((m) => el("option", { value: m.id, text: m.name,
    selected: m.id === ui.memberId })));
  $("members").replaceChildren(...state.members.map((m) => el("li", {}, avatar(m.name, true),
    el("span", { text: m.name }), m.bot ? el("span", { class: "badge", text: "BOT" }) : null,
    m.roles.length ? el("span", { class: "role", text: m.roles.join(", ") }) : null)));
  $("personas").replaceChildren(...(state.personas.length ? state.personas.map((name) =>
    el("li", {}, avatar(name, true), el("span", { text: name }))) :
    [el("li", { class: "hint", text: "none yet" })]));
}

function channelButton(channel, prefix) {
  return el("button", { type: "button", class: channel.id === ui.channelId ? "active" : "",
    dataset: { channel: channel.id }, text: prefix + channel.name,
    onclick: () => selectChannel(channel.id) });
}

function selectChannel(id) {
  ui.channelId = id;
  ui.replyTo = null;
  renderReply();
  closeCommand();
  refresh();
}

async function renderChannel() {
  const channel = currentChannel();
  if (!channel) return;
  $("channel-title").textContent = (channel.kind === "thread" ? "↳ " : "# ") + channel.name;
  $("channel-topic").textContent = channel.topic || "";
  const input = $("composer-input");
  input.placeholder = channel.kind === "forum" ? "Open a post to reply in it; / for commands"
    : `Message ${channel.kind === "thread" ? "" : "#"}${channel.name}, or / for commands`;
  const box = $("messages");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  if (channel.kind === "forum") {
    box.replaceChildren(...(channel.threads.length ? channel.threads.map((t) =>
      el("div", { class: "forum-post" },
        el("button", { type: "button", class: "link-button", text: t.name,
          onclick: () => selectChannel(t.id) }),
        el("div", { class: "hint", text: `${t.message_count} messages` +
          (t.tags.length ? ` · ${t.tags.join(", ")}` : "") }))) :
      [el("p", { class: "hint", text: "No posts in this forum yet." })]));
    return;
  }
  const messages = await api(`/api/channels/${channel.id}/messages`);
  box.replaceChildren(...(messages.length ? messages.map((m) => renderMessage(m, true)) :
    [el("p", { class: "hint", text: "No messages here yet." })]));
  if (atBottom) box.scrollTop = box.scrollHeight;
}

function renderMessage(message, withActions) {
  const author = message.author;
  return el("article", { class: "message", dataset: { message: message.id } },
    avatar(author.name),
    el("div", { class: "body" },
      message.interaction && message.interaction.name ? el("div", { class: "interaction-ref",
        text: `${message.interaction.user} used /${message.interaction.name}` }) : null,
      message.reply_to ? el("div", { class: "reply-ref",
        text: `↪ ${message.reply_to.author}: ${message.reply_to.content}` }) : null,
      el("div", { class: "meta" },
        el("span", { class: "author", text: author.name }),
        author.webhook ? el("span", { class: "badge webhook", text: "WEBHOOK" }) :
          author.bot ? el("span", { class: "badge", text: "BOT" }) : null,
        el("span", { class: "time", text: when(message.timestamp) }),
        message.edited ? el("span", { class: "edited", text: "(edited)" }) : null,
        withActions && !author.webhook ? el("span", { class: "actions" },
          el("button", { type: "button", class: "link-button", text: "Reply",
            onclick: () => { ui.replyTo = message; renderReply(); $("composer-input").focus(); } }))
          : null),
      message.loading ? el("div", { class: "hint", text: "Reviewbridge is thinking…" }) : null,
      message.content ? markdown(message.content) : null,
      message.embeds.map((e) => renderEmbed(e)),
      message.attachments.map((a) => renderAttachment(a)),
      renderComponents(message.components, message),
      message.reactions.length ? el("div", { class: "reactions" }, message.reactions.map((r) =>
        el("span", { class: "reaction", text: `${r.emoji} ${r.count}` }))) : null,
      message.thread ? el("div", { class: "thread-link" },
        el("button", { type: "button", class: "link-button",
          text: `Thread: ${message.thread.name} · ${message.thread.message_count} messages`,
          onclick: () => selectChannel(message.thread.id) })) : null));
}

function renderImage(image, cls) {
  if (image.src) return el("img", { src: image.src, class: cls, alt: "" });
  const host = safeUrl(image.remote) ? new URL(image.remote).host : "elsewhere";
  return el("span", { class: "remote-image", text: `[image on ${host}, not loaded offline]` });
}

function renderEmbed(embed) {
  const node = el("div", { class: "embed" },
    embed.thumbnail ? renderImage(embed.thumbnail, "embed-thumb") : null,
    embed.author && embed.author.name ? el("div", { class: "embed-author" },
      embed.author.url ? link(embed.author.url, embed.author.name) : embed.author.name) : null,
    embed.title ? el("div", { class: "embed-title" },
      embed.url ? link(embed.url, embed.title) : embed.title) : null,
    embed.description ? markdown(embed.description) : null,
    embed.fields.length ? el("div", { class: "embed-fields" }, embed.fields.map((f) =>
      el("div", { class: f.inline ? "embed-field" : "embed-field wide" },
        el("div", { class: "embed-field-name" }, inline(f.name, 0)), markdown(f.value)))) : null,
    embed.image ? renderImage(embed.image, "embed-image") : null,
    embed.footer || embed.timestamp ? el("div", { class: "embed-footer",
      text: [embed.footer && embed.footer.text, embed.timestamp && when(embed.timestamp)]
        .filter(Boolean).join(" · ") }) : null);
  if (Number.isInteger(embed.color)) {
    node.style.borderLeftColor = "#" + embed.color.toString(16).padStart(6, "0");
  }
  return node;
}

function renderAttachment(attachment) {
  if (attachment.image) {
    return el("div", { class: "attachment" },
      el("img", { src: attachment.url, alt: attachment.description || attachment.filename }));
  }
  return el("div", { class: "attachment" },
    el("a", { href: attachment.url, text: `📎 ${attachment.filename} (${attachment.size} bytes)`,
      download: attachment.filename }));
}

// ----- components -----
const BUTTON_STYLES = { 1: "btn primary", 2: "btn", 3: "btn success", 4: "btn danger", 5: "btn" };

function mediaImage(url, message) {
  const text = String(url || "");
  if (text.startsWith("attachment://")) {
    const found = message.attachments.find((a) => a.filename === text.slice(13));
    if (found) return renderImage({ src: found.url });
  }
  return renderImage({ remote: text });
}

function renderComponents(components, message) {
  return (components || []).map((c) => renderComponent(c, message));
}

function renderComponent(c, message) {
  switch (c.type) {
    case 1: return el("div", { class: "row" }, renderComponents(c.components, message));
    case 2: return renderButton(c, message);
    case 3: case 5: case 6: case 7: case 8: return renderSelect(c, message);
    case 9: return el("div", { class: "section" }, renderComponents(c.components, message),
      c.accessory ? renderComponent(c.accessory, message) : null);
    case 10: return markdown(c.content);
    case 11: return mediaImage(c.media && c.media.url, message);
    case 12: return el("div", { class: "row" }, (c.items || []).map((item) =>
      mediaImage(item.media && item.media.url, message)));
    case 13: return el("div", { class: "hint", text: `📎 ${(c.file && c.file.url) || "file"}` });
    case 14: return el("hr");
    case 17: {
      const node = el("div", { class: "container" }, renderComponents(c.components, message));
      if (Number.isInteger(c.accent_color)) {
        node.style.borderLeftColor = "#" + c.accent_color.toString(16).padStart(6, "0");
      }
      return node;
    }
    default: return null;
  }
}

function renderButton(c, message) {
  const label = [c.emoji && c.emoji.name, c.label].filter(Boolean).join(" ") || "…";
  if (c.style === 5) return link(c.url, label);
  return el("button", { type: "button", class: BUTTON_STYLES[c.style] || "btn", text: label,
    disabled: Boolean(c.disabled), dataset: { customId: c.custom_id || "" },
    onclick: () => act("/api/components/click", { channel: message.channel_id,
      message: message.id, custom_id: c.custom_id }) });
}

function selectOptions(c) {
  const state = ui.state;
  if (c.type === 3) {
    return (c.options || []).map((o) => ({ value: o.value, label: o.label, default: o.default }));
  }
  const users = state.members.map((m) => ({ value: m.id, label: "@" + m.name }));
  const roles = state.roles.map((r) => ({ value: r.id, label: "@" + r.name }));
  const channels = allChannels().map((ch) => ({ value: ch.id, label: "#" + ch.name }));
  return { 5: users, 6: roles, 7: users.concat(roles), 8: channels }[c.type] || [];
}

function renderSelect(c, message) {
  const multiple = (c.max_values || 1) > 1;
  const select = el("select", { multiple, disabled: Boolean(c.disabled),
    dataset: { customId: c.custom_id || "" } },
    multiple ? null : el("option", { value: "", text: c.placeholder || "Make a selection" }),
    selectOptions(c).map((o) => el("option", { value: o.value, text: o.label })));
  const send = () => {
    const values = Array.from(select.selectedOptions, (o) => o.value).filter((v) => v !== "");
    if (values.length) act("/api/components/select", { channel: message.channel_id,
      message: message.id, custom_id: c.custom_id, values });
  };
  if (!multiple) { select.addEventListener("change", send); return select; }
  return el("div", { class: "row" }, select,
    el("button", { type: "button", class: "btn primary", text: "Choose", onclick: send }));
}

// ----- acting: interactions and their private answers -----
async function act(path, body) {
  try {
    const result = await api(path, { member: ui.memberId, ...body });
    showInteraction(result);
    return result;
  } catch (error) {
    showError($("composer-error"), error);
    return null;
  }
}

function showInteraction(result) {
  ui.interactions = [result, ...ui.interactions.filter((r) => r.id !== result.id)].slice(0, 8);
  renderInteractions();
  if (result.modal) openModal(result);
}

function renderInteractions() {
  const box = $("ephemeral");
  if (!ui.interactions.length) return;
  box.replaceChildren(...ui.interactions.map((result) => {
    const channel = allChannels().find((c) => c.id === result.channel_id);
    const privateOnes = result.messages.filter((m) => m.ephemeral);
    const status = result.failed ? "The application did not respond." :
      result.response_type === null ? "Waiting for Reviewbridge…" :
      result.modal ? "Reviewbridge opened a form." :
      !privateOnes.length ? `Answered in #${channel ? channel.name : "?"}.` : "";
    return el("div", { class: "card", dataset: { interaction: result.id } },
      el("div", { class: "card-title", text: result.title }),
      status ? el("div", { class: "hint", text: status }) : null,
      privateOnes.map((m) => renderMessage(m, false)));
  }));
}

async function refreshInteractions() {
  const open = ui.interactions.slice(0, 3);
  const fresh = await Promise.all(open.map((r) => api(`/api/interactions/${r.id}`)
    .catch(() => r)));
  ui.interactions = fresh.concat(ui.interactions.slice(3));
  renderInteractions();
}

function openModal(result) {
  const modal = result.modal;
  const fields = [];
  const inputs = [];
  const collect = (component) => {
    if (!component) return;
    if (component.type === 1) { (component.components || []).forEach(collect); return; }
    if (component.type === 18) { collect({ ...component.component, label: component.label,
      description: component.description }); return; }
    if (component.type === 10) { fields.push(markdown(component.content)); return; }
    const id = `modal-${inputs.length}`;
    let input;
    if (component.type === 4) {
      input = el(component.style === 2 ? "textarea" : "input", { id,
        required: component.required !== false, placeholder: component.placeholder || "",
        value: component.value || "", rows: 4 });
      if (component.max_length) input.maxLength = component.max_length;
      if (component.min_length) input.minLength = component.min_length;
    } else {
      input = renderSelectInput(component, id);
    }
    inputs.push({ component, input });
    fields.push(el("div", { class: "option" },
      el("label", { htmlFor: id, text: component.label || component.custom_id }), input));
  };
  (modal.components || []).forEach(collect);
  $("modal-title").textContent = modal.title || "Form";
  $("modal-fields").replaceChildren(...fields);
  showError($("modal-error"), null);
  const dialog = $("modal");
  $("modal-form").onsubmit = async (event) => {
    event.preventDefault();
    const values = {};
    for (const { component, input } of inputs) {
      values[component.custom_id] = component.type === 4 ? input.value :
        Array.from(input.selectedOptions, (o) => o.value).filter((v) => v !== "");
    }
    try {
      const answer = await api("/api/modals/submit", { member: ui.memberId,
        interaction: result.id, values });
      dialog.close();
      showInteraction(answer);
    } catch (error) {
      showError($("modal-error"), error);
    }
  };
  $("modal-cancel").onclick = () => dialog.close();
  dialog.showModal();
}

function renderSelectInput(component, id) {
  const multiple = (component.max_values || 1) > 1;
  return el("select", { id, multiple, required: component.required !== false },
    multiple ? null : el("option", { value: "", text: component.placeholder || "Choose" }),
    selectOptions(component).map((o) => el("option", { value: o.value, text: o.label,
      selected: Boolean(o.default) })));
}

// ----- the composer: messages and slash commands -----
function renderReply() {
  const banner = $("reply-banner");
  banner.hidden = !ui.replyTo;
  if (ui.replyTo) $("reply-text").textContent = `Replying to ${ui.replyTo.author.name}`;
}

async function loadCommands() {
  if (!ui.channelId || !ui.memberId) return;
  ui.commands = await api(`/api/commands?member=${ui.memberId}&channel=${ui.channelId}`)
    .catch(() => []);
}

function renderCommandList() {
  const text = $("composer-input").value;
  const list = $("command-list");
  if (!text.startsWith("/") || ui.command) { list.hidden = true; return; }
  const wanted = text.slice(1).trim().toLowerCase();
  const found = ui.commands.filter((c) => !c.locked && c.path.startsWith(wanted));
  list.hidden = false;
  list.replaceChildren(...(found.length ? found.map((c) => el("li", {},
    el("button", { type: "button", dataset: { path: c.path }, onclick: () => openCommand(c) },
      el("strong", { text: "/" + c.path }), el("span", { class: "desc", text: c.description }))))
    : [el("li", { class: "hint", text: "No matching command you may use here." })]));
}

function closeCommand() {
  ui.command = null;
  ui.commandFields = [];
  $("command-form").hidden = true;
  $("command-form").replaceChildren();
  $("command-list").hidden = true;
}

function openCommand(command) {
  ui.command = command;
  $("composer-input").value = "/" + command.path;
  $("command-list").hidden = true;
  const form = $("command-form");
  const fields = command.options.map((option) => optionField(option));
  ui.commandFields = fields;
  form.replaceChildren(
    el("div", {}, el("strong", { text: "/" + command.path }),
      el("span", { class: "desc", text: " " + command.description })),
    ...fields.map((f) => f.node),
    el("div", { class: "row" },
      el("button", { type: "button", class: "btn primary", text: "Run", id: "command-run",
        onclick: () => runCommand(command, fields) }),
      el("button", { type: "button", class: "btn", text: "Cancel", onclick: () => {
        closeCommand(); $("composer-input").value = ""; } })));
  form.hidden = false;
  const first = form.querySelector("input, select");
  if (first) first.focus();
}

const TYPE_NAMES = { 3: "text", 4: "whole number", 5: "true/false", 6: "member", 7: "channel",
  8: "role", 9: "member or role", 10: "number", 11: "file" };

function optionField(option) {
  const id = `option-${option.name}`;
  const field = { option, value: () => input.value, node: null };
  let input;
  const state = ui.state;
  if (option.choices && option.choices.length) {
    input = el("select", { id }, el("option", { value: "", text: "" }),
      option.choices.map((c) => el("option", { value: String(c.value), text: c.name })));
  } else if (option.type === 5) {
    input = el("select", { id }, el("option", { value: "", text: "" }),
      el("option", { value: "true", text: "True" }), el("option", { value: "false", text: "False" }));
  } else if (option.type === 6 || option.type === 8 || option.type === 9) {
    const people = option.type === 8 ? [] : state.members.map((m) => ({ id: m.id, name: "@" + m.name }));
    const roles = option.type === 6 ? [] : state.roles.map((r) => ({ id: r.id, name: "@" + r.name }));
    input = el("select", { id }, el("option", { value: "", text: "" }),
      people.concat(roles).map((x) => el("option", { value: x.id, text: x.name })));
  } else if (option.type === 7) {
    const allowed = option.channel_types;
    const kinds = { text: 0, forum: 15, thread: 11, voice: 2, category: 4 };
    input = el("select", { id }, el("option", { value: "", text: "" }),
      allChannels().filter((c) => !allowed || allowed.includes(kinds[c.kind]))
        .map((c) => el("option", { value: c.id, text: "#" + c.name,
          selected: c.id === ui.channelId && option.required })));
  } else if (option.type === 11) {
    input = el("input", { id, type: "file" });
    field.value = () => readFile(input.files[0]);
  } else {
    input = el("input", { id, type: option.type === 4 || option.type === 10 ? "number" : "text",
      step: option.type === 10 ? "any" : undefined });
    if (option.autocomplete) field.value = autocompleteInput(input, option, field);
  }
  field.node = el("div", { class: "option" },
    el("label", { htmlFor: id, text: `${option.name}${option.required ? " *" : ""} · ` +
      `${TYPE_NAMES[option.type] || "value"} — ${option.description || ""}` }),
    input, field.suggestions || null);
  return field;
}

function readFile(file) {
  if (!file) return "";
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve({ filename: file.name, content_type: file.type,
      data: String(reader.result).split(",", 2)[1] || "" });
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

// Autocomplete: as the visitor types, the bot suggests; a picked suggestion sends its value.
function autocompleteInput(input, option, field) {
  const list = el("ul", { class: "suggestions", hidden: true });
  field.suggestions = list;
  let picked = null;
  let timer = null;
  let asked = 0;
  const ask = async () => {
    const number = ++asked;
    const options = {};
    for (const other of ui.commandFields) {
      if (other.option.name !== option.name && typeof other.value() === "string") {
        options[other.option.name] = other.value();
      }
    }
    options[option.name] = input.value;
    try {
      const answer = await api("/api/autocomplete", { member: ui.memberId,
        channel: ui.channelId, command: ui.command.path, options, focused: option.name });
      if (number !== asked) return;
      list.replaceChildren(...answer.choices.map((c) => el("li", {},
        el("button", { type: "button", text: c.name, dataset: { value: String(c.value) },
          onclick: () => { input.value = c.name; picked = c; list.hidden = true; } }))));
      list.hidden = !answer.choices.length;
    } catch (error) {
      list.replaceChildren(el("li", { class: "error", text: String(error.message) }));
      list.hidden = false;
    }
  };
  input.addEventListener("input", () => {
    picked = null;
    clearTimeout(timer);
    timer = setTimeout(ask, 200);
  });
  input.addEventListener("focus", () => { if (!input.value) ask(); });
  return () => (picked && picked.name === input.value ? String(picked.value) : input.value);
}

async function runCommand(command, fields) {
  const options = {};
  try {
    for (const field of fields) {
      const value = await field.value();
      if (value !== "" && value !== undefined) options[field.option.name] = value;
    }
  } catch (error) {
    showError($("composer-error"), error);
    return;
  }
  const run = $("command-run");
  run.disabled = true;
  showError($("composer-error"), null);
  const result = await act("/api/commands/run", { channel: ui.channelId, command: command.path,
    options });
  run.disabled = false;
  if (result) { closeCommand(); $("composer-input").value = ""; }
}

async function sendMessage() {
  const input = $("composer-input");
  const content = input.value.trim();
  if (!content || content.startsWith("/")) return;
  try {
    await api("/api/messages", { member: ui.memberId, channel: ui.channelId, content,
      reply_to: ui.replyTo ? ui.replyTo.id : null });
    input.value = "";
    ui.replyTo = null;
    renderReply();
    showError($("composer-error"), null);
  } catch (error) {
    showError($("composer-error"), error);
  }
}

// ----- the blog -----
async function renderBlog() {
  const blog = await api("/api/blog");
  $("blog-url").textContent = blog.builtin ? `Built-in sandbox blog at ${blog.url}` :
    `Your blog: ${blog.url || "none configured"}`;
  const box = $("blog-posts");
  const open = new Set(Array.from(box.querySelectorAll("details[open]"), (d) => d.dataset.post));
  box.replaceChildren(...blog.posts.map((post) => el("details",
    { class: "blog-post", open: open.has(String(post.id)), dataset: { post: String(post.id) } },
    el("summary", { text: `${post.title} · ${post.comments.length} comments` }),
    post.comments.map((c) => {
      const node = el("div", { class: "comment", dataset: { comment: String(c.id) } },
        el("span", { class: "who", text: c.author }), " ",
        el("span", { class: "hint", text: when(c.date) }), el("div", { class: "content",
          text: c.text }));
      node.style.marginLeft = `${Math.min(c.depth, 5) * 0.8}rem`;
      return node;
    }),
    blog.builtin ? commentForm(post) : null)));
}

function commentForm(post) {
  const author = el("input", { placeholder: "Your name (a blog reader)", value: "Sam Reader" });
  const content = el("textarea", { placeholder: "Comment on the blog", rows: 2 });
  const error = el("p", { class: "error", hidden: true });
  return el("div", { class: "comment-form" }, author, content, error,
    el("button", { type: "button", class: "btn", text: "Comment on the blog", onclick: async () => {
      try {
        await api("/api/blog/comments", { post: post.id, author: author.value,
          content: content.value });
        content.value = "";
        showError(error, null);
      } catch (problem) {
        showError(error, problem);
      }
    } }));
}

// ----- live updates -----
async function refresh() {
  if (ui.refreshing) { ui.again = true; return; }
  ui.refreshing = true;
  try {
    do {
      ui.again = false;
      ui.state = await api("/api/state");
      if (!ui.channelId || !currentChannel()) ui.channelId = ui.state.default_channel;
      renderSidebar();
      await Promise.all([renderChannel(), loadCommands(), renderBlog(), refreshInteractions()]);
      renderCommandList();
    } while (ui.again);
  } catch (error) {
    $("live").textContent = "error: " + error.message;
  } finally {
    ui.refreshing = false;
  }
}

function listen() {
  const events = new EventSource("/api/events");
  events.onopen = () => { $("live").textContent = "● live"; $("live").className = "live on"; };
  events.onmessage = () => refresh();
  events.onerror = () => { $("live").textContent = "reconnecting…"; $("live").className = "live"; };
}

function start() {
  $("persona").addEventListener("change", (event) => {
    ui.memberId = event.target.value;
    closeCommand();
    refresh();
  });
  const input = $("composer-input");
  input.addEventListener("input", () => {
    if (ui.command && input.value !== "/" + ui.command.path) closeCommand();
    renderCommandList();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Escape") { closeCommand(); input.value = ""; }
  });
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    if (ui.command) { $("command-run").click(); return; }
    const wanted = input.value.slice(1).trim().toLowerCase();
    const exact = ui.commands.find((c) => !c.locked && c.path === wanted);
    if (input.value.startsWith("/")) { if (exact) openCommand(exact); return; }
    sendMessage();
  });
  $("reply-cancel").addEventListener("click", () => { ui.replyTo = null; renderReply(); });
  listen();
  refresh();
}

start();
