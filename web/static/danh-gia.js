/* danh-gia.js - the rating page behind notify.rating_url (?ma=<code>&t=<token>):
   POST /v1/public/rating (a RateService as JSON) once; the submission id is made once per page so a
   retry of the same click is the same rating (idempotent at intake). */
"use strict";
(function () {
  var params = new URLSearchParams(location.search);
  var code = params.get("ma") || "", token = params.get("t") || "";
  var form = document.getElementById("form-danh-gia");
  var note = document.getElementById("thong-bao");
  var button = document.getElementById("nut-gui");
  var submissionId = "web-" + (window.crypto && crypto.randomUUID ? crypto.randomUUID()
                     : String(Date.now()) + "-" + String(Math.random()).slice(2, 12));
  document.getElementById("dg-ma").textContent = code;
  if (!code || !token) {
    form.hidden = true;
    MC.say(note, "Đường liên kết đánh giá không đầy đủ. Vui lòng mở lại liên kết trong tin nhắn đã nhận.", "error");
    return;
  }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var chosen = form.querySelector("input[name=muc]:checked");
    if (!chosen) {
      MC.say(note, "Vui lòng chọn một mức độ hài lòng.", "error");
      document.getElementById("muc-rat-hai-long").focus();
      return;
    }
    button.disabled = true;
    MC.say(note, "Đang gửi…");
    MC.csrf().then(function (t) {
      return MC.api("POST", "/v1/public/rating", { submissionId: submissionId, dossierCode: code, token: token,
        level: chosen.value, comment: document.getElementById("gop-y").value }, t);
    }).then(function (r) {
      if (r.status === 200) {
        form.hidden = true;
        MC.say(note, r.body.message || "Cảm ơn Ông/Bà đã đánh giá.", "ok");
      } else if (r.body.reason === "REASON_ALREADY_RATED") {
        form.hidden = true;
        MC.say(note, r.body.message || "Hồ sơ này đã đánh giá rồi.", "error");
      } else {
        button.disabled = false;
        MC.say(note, r.body.message || "Chưa gửi được đánh giá. Vui lòng thử lại.", "error");
      }
    });
  });
})();
