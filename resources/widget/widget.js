/* Botdesk chat widget (protocol: docs/widget-protocol.md). One tag embeds it:
   <script src="https://SERVICE/widget.js" data-bot-id="ID" async></script>
   Everything lives in a shadow root on one fixed-position element: the page's CSS cannot
   reach in, ours cannot leak out, and the page's layout never moves (CLS 0).
   Text from the server is only ever set with textContent / text nodes, never as HTML. */
(function () {
  'use strict';
  var script = document.currentScript || document.querySelector('script[data-bot-id]');
  if (!script || window.__botdeskWidget || !window.fetch || !document.documentElement.attachShadow) return;
  window.__botdeskWidget = true;
  var bot = script.getAttribute('data-bot-id') || '';
  var endpoint = (script.getAttribute('data-endpoint') || new URL(script.src, location.href).origin)
    .replace(/\/+$/, '');
  var api = endpoint + '/v1/bots/' + encodeURIComponent(bot);

  var CSS =
    ':host{all:initial}' +
    '.w{all:initial;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);' +
    '--bg:#fff;--fg:#1d2127;--mut:#5c6470;--bub:#eef1f5;--bd:#d5dae1;--dk:#fff8e6;--dkb:#e0b84c}' +
    '.w.dark{--bg:#1c1e22;--fg:#eceef1;--mut:#a4abb5;--bub:#2b2f35;--bd:#3c424b;--dk:#2e2a1f;--dkb:#a8873a}' +
    '.w *{box-sizing:border-box;font:inherit;color:inherit;margin:0;padding:0;border:0;background:none;' +
    'text-align:left;letter-spacing:normal;text-transform:none;float:none;width:auto;height:auto;max-width:none}' +
    '[hidden]{display:none!important}' +
    'button,input,textarea{cursor:pointer;-webkit-appearance:none;appearance:none}' +
    'input,textarea{cursor:text}' +
    ':focus-visible{outline:3px solid var(--c);outline-offset:2px}' +
    '.l{position:fixed;bottom:20px;right:20px;display:flex;align-items:center;gap:8px;min-height:52px;' +
    'min-width:52px;padding:0 16px;border-radius:26px;background:var(--c);color:var(--on);font-weight:600;' +
    'box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:2147483000;animation:in .25s ease-out;justify-content:center}' +
    '.left .l{right:auto;left:20px}' +
    '.l svg{width:24px;height:24px;flex:none;fill:currentColor}' +
    '.p{position:fixed;bottom:84px;right:20px;width:380px;max-width:calc(100vw - 24px);height:600px;' +
    'max-height:calc(100vh - 104px);display:flex;flex-direction:column;background:var(--bg);border-radius:14px;' +
    'box-shadow:0 10px 40px rgba(0,0,0,.3);overflow:hidden;z-index:2147483001;animation:up .2s ease-out}' +
    '.left .p{right:auto;left:20px}' +
    '.h{display:flex;align-items:center;gap:8px;padding:12px 14px;background:var(--c);color:var(--on)}' +
    '.h h2{flex:1;font-weight:650;font-size:16px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}' +
    '.x{width:36px;height:36px;border-radius:18px;font-size:22px;line-height:36px;text-align:center}' +
    '.x:hover{background:rgba(127,127,127,.25)}' +
    '.g{flex:1;overflow-y:auto;padding:14px;display:flex;flex-direction:column;gap:10px;overscroll-behavior:contain}' +
    '.m{max-width:88%;padding:9px 12px;border-radius:12px;background:var(--bub);white-space:pre-wrap;' +
    'overflow-wrap:anywhere;align-self:flex-start}' +
    '.m.v{align-self:flex-end;background:var(--c);color:var(--on)}' +
    '.m.d{background:var(--dk);border:1px dashed var(--dkb)}' +
    '.dl{display:block;font-size:12px;font-weight:600;color:var(--mut);margin-bottom:3px}' +
    '.m.e{background:none;border:1px solid var(--bd);color:var(--mut);font-style:italic}' +
    '.m.s .t::after{content:"\\258D";animation:bl 1s steps(2) infinite}' +
    '.m a{color:inherit;text-decoration:underline}' +
    '.n{font-size:12px;vertical-align:super;line-height:0;padding:0 1px}' +
    '.src{margin-top:8px;padding-top:6px;border-top:1px solid var(--bd);font-size:13px;display:flex;' +
    'flex-direction:column;gap:2px;white-space:normal}' +
    '.src li{list-style:none;display:block}' +
    '.f{display:flex;gap:4px;margin-top:6px;align-items:center;font-size:12px;color:var(--mut)}' +
    '.f button{border:1px solid var(--bd);border-radius:14px;padding:3px 9px;display:flex}' +
    '.f svg{width:15px;height:15px;fill:currentColor}.f .dn{transform:rotate(180deg)}' +
    '.f button[aria-pressed=true]{background:var(--c);color:var(--on);border-color:var(--c)}' +
    '.q{display:flex;flex-wrap:wrap;gap:6px;padding:0 14px 10px}' +
    '.q button{border:1.5px solid var(--c);border-radius:16px;padding:5px 11px;font-size:14px;color:var(--fg)}' +
    '.q button:hover,.f button:hover{background:var(--bub)}' +
    '.k{display:flex;flex-direction:column;gap:7px;padding:12px;flex:none;border:1px solid var(--bd);border-radius:10px}' +
    '.k label{display:flex;flex-direction:column;font-size:13px;color:var(--mut);gap:2px}' +
    '.k label.c{flex-direction:row;gap:8px;align-items:flex-start}' +
    '.k input[type=checkbox]{width:16px;height:16px;border:1.5px solid var(--bd);border-radius:3px;flex:none;margin-top:2px}' +
    '.k input[type=checkbox]:checked{background:var(--c);border-color:var(--c)}' +
    '.k .r{display:flex;gap:8px;justify-content:flex-end}' +
    '.i input,.i textarea,.k input:not([type=checkbox]),.k textarea{border:1px solid var(--bd);border-radius:8px;' +
    'padding:8px 10px;background:var(--bg);color:var(--fg);display:block;width:100%}' +
    '.b{background:var(--c);color:var(--on);border-radius:8px;padding:8px 14px;font-weight:600}' +
    '.b2{color:var(--mut);padding:8px 6px}' +
    '.i{display:flex;gap:8px;padding:10px 14px 12px;border-top:1px solid var(--bd)}' +
    '.i textarea{flex:1;resize:none;height:42px;max-height:120px;width:auto;min-width:0}' +
    '.i .b{flex:none}' +
    'button:disabled,textarea:disabled{opacity:.55;cursor:default}' +
    '.ft{font-size:11px;color:var(--mut);text-align:center;padding:0 0 8px}' +
    '@media (max-width:480px){.p{left:0!important;right:0!important;bottom:0;top:0;width:100%;max-width:none;' +
    'height:100%;max-height:none;border-radius:0}.w.o .l{display:none}}' +
    '@keyframes in{from{opacity:0;transform:scale(.8)}}@keyframes up{from{opacity:0;transform:translateY(12px)}}' +
    '@keyframes bl{50%{opacity:0}}' +
    '@media (prefers-reduced-motion:reduce){*{animation:none!important;transition:none!important}}';

  var LEAD_LABELS = {name: 'Name', email: 'E-mail', phone: 'Phone', company: 'Company', message: 'Message'};
  var LEAD_TYPES = {email: 'email', phone: 'tel'};

  // Builds an element; `kids` are nodes or strings (strings become text nodes, never HTML).
  function h(tag, attrs, kids) {
    var el = document.createElement(tag);
    for (var k in attrs || {}) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) continue;
      if (k.slice(0, 2) === 'on') el.addEventListener(k.slice(2), v);
      else if (k === 'text') el.textContent = v;
      else el.setAttribute(k, v === true ? '' : v);
    }
    (kids || []).forEach(function (kid) {
      if (kid) el.appendChild(typeof kid === 'string' ? document.createTextNode(kid) : kid);
    });
    return el;
  }

  var CHAT = 'M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z';
  var THUMB = 'M2 10h4v11H2zM8 21h9a2 2 0 0 0 2-1.6l1.4-7A2 2 0 0 0 18.4 10H14l.8-4.2a2 2 0 0 0-3.4-1.8L8 10z';

  function icon(d, cls) {
    var ns = 'http://www.w3.org/2000/svg';
    var svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    if (cls) svg.setAttribute('class', cls);
    var path = document.createElementNS(ns, 'path');
    path.setAttribute('d', d);
    svg.appendChild(path);
    return svg;
  }

  function storage(key, value) {
    try {
      if (value !== undefined) sessionStorage.setItem(key, value);
      return sessionStorage.getItem(key);
    } catch (e) {
      return value || null;
    }
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return 's' + Date.now().toString(36) + Math.random().toString(36).slice(2, 12);
  }

  // Black or white text on the theme colour, whichever reads better (WCAG luminance).
  function onColour(hex) {
    var n = parseInt(hex.slice(1), 16);
    var lum = [n >> 16, (n >> 8) & 255, n & 255].map(function (c) {
      c /= 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    var l = 0.2126 * lum[0] + 0.7152 * lum[1] + 0.0722 * lum[2];
    return l > 0.4 ? '#000' : '#fff';
  }

  function safeUrl(url) {
    try {
      var u = new URL(url);
      return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
    } catch (e) {
      return null;
    }
  }

  function start(cfg) {
    var theme = cfg.theme || {};
    var colour = /^#[0-9a-f]{6}$/i.test(theme.primary_color || '') ? theme.primary_color : '#1a73e8';
    var lead = cfg.lead_capture || {};
    var limits = cfg.limits || {};
    var name = cfg.bot_name || 'Chat';
    var sessionKey = 'botdesk:' + bot + ':session';
    var session = storage(sessionKey) || storage(sessionKey, newId());
    var sent = 0;
    var busy = false;
    var leadDone = false;
    var answered = 0;

    var host = document.createElement('botdesk-widget');
    // Inline and important: the page's own rules (even `* { all: unset }`) cannot move it.
    host.style.cssText =
      'all:initial!important;position:fixed!important;bottom:0!important;right:0!important;' +
      'width:0!important;height:0!important;z-index:2147483000!important;display:block!important';
    var root = host.attachShadow({mode: 'open'});
    // A constructed sheet is not inline style: a page whose CSP forbids those still works.
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } catch (e) {
      root.appendChild(h('style', {text: CSS}));
    }
    var w = h('div', {class: 'w' + (theme.position === 'bottom-left' ? ' left' : '')});
    w.style.setProperty('--c', colour);
    w.style.setProperty('--on', onColour(colour));
    root.appendChild(w);

    var media = window.matchMedia ? matchMedia('(prefers-color-scheme: dark)') : null;
    function applyMode() {
      var dark = theme.mode === 'dark' || (theme.mode !== 'light' && !!media && media.matches);
      w.classList.toggle('dark', dark);
    }
    applyMode();
    if (media && media.addEventListener) media.addEventListener('change', applyMode);

    var label = theme.launcher_label || '';
    var launcher = h('button', {
      class: 'l', type: 'button', 'aria-expanded': 'false', 'aria-controls': 'bd-panel',
      'aria-label': label ? null : 'Open chat with ' + name, onclick: function () { setOpen(!isOpen()); }
    }, [icon(CHAT), label ? h('span', {text: label}) : null]);

    var title = h('h2', {id: 'bd-title', text: name});
    var log = h('div', {class: 'g', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions'});
    var questions = h('div', {class: 'q', role: 'group', 'aria-label': 'Suggested questions'});
    (cfg.suggested_questions || []).forEach(function (q) {
      questions.appendChild(h('button', {type: 'button', text: q, onclick: function () { ask(q); }}));
    });
    var input = h('textarea', {
      rows: '1', 'aria-label': 'Your question', placeholder: 'Ask a question…', maxlength: '2000',
      onkeydown: function (e) {
        if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); }
      }
    });
    var send = h('button', {class: 'b', type: 'submit', text: 'Send'});
    var form = h('form', {class: 'i', onsubmit: function (e) { e.preventDefault(); submit(); }}, [input, send]);
    var leadBox = h('div', {hidden: true});
    var panel = h('div', {
      class: 'p', id: 'bd-panel', role: 'dialog', 'aria-labelledby': 'bd-title', hidden: true,
      onkeydown: function (e) { if (e.key === 'Escape') { e.stopPropagation(); setOpen(false); } }
    }, [
      h('div', {class: 'h'}, [title, h('button', {
        class: 'x', type: 'button', 'aria-label': 'Close chat', text: '×', onclick: function () { setOpen(false); }
      })]),
      log, questions, form,
      h('div', {class: 'ft', text: 'Answers come from ' + name + "'s own pages, with sources."})
    ]);
    w.appendChild(panel);
    w.appendChild(launcher);
    say('m', cfg.greeting || '');

    function isOpen() { return !panel.hidden; }
    function setOpen(open) {
      panel.hidden = !open;
      w.classList.toggle('o', open);
      launcher.setAttribute('aria-expanded', String(open));
      if (open) {
        if (lead.enabled && lead.when === 'before_chat' && !leadDone && leadBox.hidden) askLead();
        var first = !leadBox.hidden && leadBox.querySelector('input,textarea');
        (first || input).focus();
      } else {
        launcher.focus();
      }
    }

    function scroll() { log.scrollTop = log.scrollHeight; }
    function say(cls, text) {
      var t = h('span', {class: 't', text: text});
      var m = h('div', {class: cls}, [t]);
      log.appendChild(m);
      scroll();
      return {box: m, text: t};
    }

    function submit() {
      var text = input.value.trim();
      if (text && !busy) { input.value = ''; ask(text); }
    }

    function setBusy(value) {
      busy = value;
      send.disabled = value;
      Array.prototype.forEach.call(questions.querySelectorAll('button'), function (b) { b.disabled = value; });
    }

    function post(path, body) {
      return fetch(api + path, {
        method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body),
        credentials: 'omit'
      });
    }

    function friendly(status, body, retry) {
      if (status === 429) {
        if (body && body.limit === 'session') return 'You have reached the limit of messages for this conversation. Thank you for chatting!';
        if (body && body.limit === 'day') return 'The assistant is very busy today. Please try again tomorrow, or contact us directly.';
        var s = parseInt(retry, 10);
        return 'You are sending messages faster than I can answer. Please try again' + (s > 0 ? ' in ' + s + ' seconds.' : ' in a moment.');
      }
      if (status === 403) return 'This chat is not available on this page.';
      return 'Sorry, something went wrong on our side. Please try again in a moment.';
    }

    function ask(text) {
      if (busy) return;
      if (limits.messages_per_session && sent >= limits.messages_per_session) {
        say('m e', friendly(429, {limit: 'session'}));
        return;
      }
      questions.hidden = true;
      say('m v', text);
      sent++;
      setBusy(true);
      var reply = say('m s', '');
      var started = false;
      post('/chat', {session_id: session, message: text, page_url: location.href}).then(function (res) {
        if (!res.ok) {
          return res.json().catch(function () { return null; }).then(function (body) {
            fail(reply, friendly(res.status, body, res.headers.get('Retry-After')));
          });
        }
        return readEvents(res, function (event, data) {
          if (event === 'token') {
            started = true;
            reply.text.textContent += data.text || '';
            scroll();
          } else if (event === 'done') {
            finish(reply, data);
          } else if (event === 'error') {
            fail(reply, friendly(data.status || 500, data, data.retry_after));
          }
        });
      }).catch(function () {
        fail(reply, started ? friendly(500) : 'I could not reach the server. Please check your connection and try again.');
      }).then(function () {
        setBusy(false);
        if (reply.box.classList.contains('s')) fail(reply, friendly(500));
      });
    }

    // Reads a text/event-stream body: `event:` and `data:` lines, events separated by a blank line.
    function readEvents(res, on) {
      var decoder = new TextDecoder();
      var buffer = '';
      function feed(chunk, last) {
        buffer += chunk;
        var parts = buffer.split(/\r?\n\r?\n/);
        buffer = last ? '' : parts.pop();
        parts.forEach(function (part) {
          var event = 'message', data = '';
          part.split(/\r?\n/).forEach(function (line) {
            if (line.indexOf('event:') === 0) event = line.slice(6).trim();
            else if (line.indexOf('data:') === 0) data += line.slice(5).replace(/^ /, '');
          });
          if (data) { try { on(event, JSON.parse(data)); } catch (e) { /* a broken event is skipped */ } }
        });
      }
      if (!res.body || !res.body.getReader) return res.text().then(function (t) { feed(t, true); });
      var reader = res.body.getReader();
      function pump() {
        return reader.read().then(function (r) {
          if (r.done) { feed(decoder.decode(), true); return; }
          feed(decoder.decode(r.value, {stream: true}), false);
          return pump();
        });
      }
      return pump();
    }

    function fail(reply, message) {
      reply.box.className = 'm e';
      reply.box.setAttribute('role', 'status');
      reply.text.textContent = message;
      scroll();
    }

    function finish(reply, data) {
      var box = reply.box;
      var text = reply.text.textContent;
      box.className = 'm' + (data.declined ? ' d' : '');
      if (data.declined) {
        if (!text) reply.text.textContent = cfg.refusal_message || '';
        box.insertBefore(h('span', {class: 'dl', text: 'Not covered by our pages'}), reply.text);
      }
      var cites = (data.citations || []).filter(function (c) { return c && c.n; });
      var byN = {};
      cites.forEach(function (c) { byN[c.n] = c; });
      // [n] markers become links to the cited page; the rest stays plain text.
      if (cites.length && !data.declined) {
        reply.text.textContent = '';
        text.split(/(\[\d{1,3}\])/).forEach(function (part) {
          var c = /^\[(\d+)\]$/.test(part) && byN[part.slice(1, -1)];
          var href = c && safeUrl(c.url);
          reply.text.appendChild(href
            ? h('a', {class: 'n', href: href, target: '_blank', rel: 'noopener noreferrer', text: part,
              title: c.title || c.url})
            : document.createTextNode(part));
        });
        var seen = {};
        var list = h('ol', {class: 'src', 'aria-label': 'Sources'});
        cites.forEach(function (c) {
          var key = c.url || c.title || c.n;
          if (seen[key]) return;
          seen[key] = 1;
          var href = safeUrl(c.url);
          var caption = '[' + c.n + '] ' + (c.title || c.url || 'Source');
          list.appendChild(h('li', {}, [href
            ? h('a', {href: href, target: '_blank', rel: 'noopener noreferrer', text: caption})
            : caption]));
        });
        box.appendChild(list);
      }
      if (data.message_id) box.appendChild(thumbs(data.message_id));
      answered++;
      if (lead.enabled && !leadDone && leadBox.hidden &&
        ((lead.when === 'after_first_answer' && answered === 1) || (lead.when === 'on_refusal' && data.declined))) {
        askLead();
      }
      scroll();
    }

    function thumbs(messageId) {
      var note = h('span', {'aria-live': 'polite'});
      function vote(value, other) {
        return function (e) {
          var button = e.currentTarget;
          button.setAttribute('aria-pressed', 'true');
          other().setAttribute('aria-pressed', 'false');
          post('/feedback', {session_id: session, message_id: messageId, value: value}).then(function (res) {
            note.textContent = res.ok ? 'Thanks for your feedback.' : 'Feedback not sent.';
          }, function () { note.textContent = 'Feedback not sent.'; });
        };
      }
      var up, down;
      up = h('button', {type: 'button', 'aria-label': 'Helpful', 'aria-pressed': 'false',
        onclick: vote('up', function () { return down; })}, [icon(THUMB)]);
      down = h('button', {type: 'button', 'aria-label': 'Not helpful', 'aria-pressed': 'false',
        onclick: vote('down', function () { return up; })}, [icon(THUMB, 'dn')]);
      return h('div', {class: 'f'}, [up, down, note]);
    }

    function askLead() {
      var fields = (lead.fields && lead.fields.length ? lead.fields : ['email']).filter(function (f) { return LEAD_LABELS[f]; });
      var inputs = {};
      var kids = [h('strong', {text: 'Leave your details and we will get back to you.'})];
      fields.forEach(function (f) {
        var el = f === 'message'
          ? h('textarea', {name: f, rows: '2', maxlength: '2000'})
          : h('input', {name: f, type: LEAD_TYPES[f] || 'text', maxlength: '200', required: f === 'email',
            autocomplete: f === 'phone' ? 'tel' : f === 'company' ? 'organization' : f});
        inputs[f] = el;
        kids.push(h('label', {}, [LEAD_LABELS[f], el]));
      });
      var consent = null;
      if (lead.consent_text) {
        consent = h('input', {type: 'checkbox', required: true});
        kids.push(h('label', {class: 'c'}, [consent, h('span', {text: lead.consent_text})]));
      }
      var status = h('p', {role: 'status'});
      var skip = h('button', {class: 'b2', type: 'button', text: 'No thanks', onclick: function () { closeLead(); }});
      kids.push(status, h('div', {class: 'r'}, [skip, h('button', {class: 'b', type: 'submit', text: 'Send details'})]));
      var leadForm = h('form', {class: 'k', 'aria-label': 'Contact details', onsubmit: function (e) {
        e.preventDefault();
        var values = {};
        fields.forEach(function (f) { var v = inputs[f].value.trim(); if (v) values[f] = v; });
        if (!Object.keys(values).length) { status.textContent = 'Please fill in at least one field.'; return; }
        post('/leads', {session_id: session, page_url: location.href, fields: values, consent: !!consent})
          .then(function (res) {
            if (!res.ok) throw res;
            closeLead();
            say('m', 'Thank you! We will be in touch.');
          }).catch(function (res) {
            status.textContent = friendly(res && res.status || 500, null, res && res.headers && res.headers.get('Retry-After'));
          });
      }}, kids);
      leadBox.textContent = '';
      leadBox.appendChild(leadForm);
      leadBox.hidden = false;
      log.appendChild(leadBox);  // in the conversation, so it scrolls with it
      scroll();
      if (isOpen()) leadForm.querySelector('input,textarea').focus();
    }

    function closeLead() {
      leadDone = true;
      leadBox.hidden = true;
      leadBox.textContent = '';
      if (leadBox.parentNode) leadBox.parentNode.removeChild(leadBox);
      input.focus();
    }

    // On <html>, not <body>: a transform on the page's body cannot move it, and pages that
    // rebuild their body (single-page apps) do not remove it.
    document.documentElement.appendChild(host);
    if (window.performance && performance.mark) performance.mark('botdesk:launcher');
    window.dispatchEvent(new CustomEvent('botdesk:ready'));
  }

  function load() {
    fetch(api + '/widget-config', {credentials: 'omit'}).then(function (res) {
      if (!res.ok) throw new Error('Botdesk widget: config answered HTTP ' + res.status);
      return res.json();
    }).then(start).catch(function (e) {
      // The page must not break because the chat is unavailable: one quiet line for its developer.
      if (window.console) console.warn(String(e && e.message || e));
    });
  }
  if (document.body) load();
  else document.addEventListener('DOMContentLoaded', load);
})();
