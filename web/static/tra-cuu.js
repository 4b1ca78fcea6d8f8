/* tra-cuu.js - the lookup page: POST /v1/public/lookup (a StatusQuery as JSON:
   {dossierCode, secret}) answered with a DossierStatus as JSON; the
   secret travels in the body, never in the address (logs, history). */
"use strict";
(function () {
  var form = document.getElementById("form-tra-cuu");
  var note = document.getElementById("thong-bao");
  var out = document.getElementById("ket-qua");
  var params = new URLSearchParams(location.search);
  if (params.get("ma")) document.getElementById("ma").value = params.get("ma");

  function set(id, text) { document.getElementById(id).textContent = text; }

  function show(s, withSecret) {
    set("kq-ma", s.dossierCode || "");
    set("kq-trang-thai", MC.STATES[s.state] || "Không xác định");
    set("kq-thu-tuc", s.procedureName || s.procedureCode || "");
    set("kq-kenh", MC.CHANNELS[s.channel] || "");
    set("kq-tiep-nhan", MC.when(s.receivedAt));
    set("kq-hen-tra", MC.when(s.dueAt) || "Chưa có (hồ sơ chưa được tiếp nhận)");
    var list = document.getElementById("kq-dong-thoi-gian");
    list.textContent = "";
    (s.history || []).forEach(function (e) {
      var li = document.createElement("li");
      var t = document.createElement("time");
      t.textContent = MC.when(e.at);
      li.appendChild(t);
      li.appendChild(document.createTextNode((MC.EVENTS[e.kind] || e.kind) + (e.detail ? ": " + e.detail : "")));
      list.appendChild(li);
    });
    document.getElementById("kq-qua-trinh").hidden = !withSecret;
    document.getElementById("kq-can-bi-mat").hidden = withSecret;
    out.hidden = false;
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var code = document.getElementById("ma").value.trim();
    var secret = document.getElementById("bi-mat").value.trim();
    out.hidden = true;
    if (!code) {
      MC.say(note, "Vui lòng nhập mã hồ sơ.", "error");
      document.getElementById("ma").focus();
      return;
    }
    MC.say(note, "Đang tra cứu…");
    document.getElementById("nut-tra-cuu").disabled = true;
    MC.api("POST", "/v1/public/lookup", { dossierCode: code, secret: secret }).then(function (r) {
      document.getElementById("nut-tra-cuu").disabled = false;
      if (r.status === 200) {
        MC.say(note, "");
        show(r.body, secret !== "");
      } else {
        MC.say(note, r.body.message || "Không tra cứu được hồ sơ.", "error");
      }
    });
  });
})();
