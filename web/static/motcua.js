/* motcua.js - what the pages share: JSON requests to the gateway with the
   CSRF token, Vietnamese labels and dates. No framework, no inline script
   (the gateway's Content-Security-Policy allows only scripts from /static/). */
"use strict";
var MC = (function () {
  var STATES = {
    DOSSIER_STATE_RECEIVED: "Đã tiếp nhận",
    DOSSIER_STATE_ROUTED: "Đã chuyển bộ phận xử lý",
    DOSSIER_STATE_IN_PROGRESS: "Đang giải quyết",
    DOSSIER_STATE_WAITING_SUPPLEMENT: "Chờ bổ sung hồ sơ",
    DOSSIER_STATE_RESULT_READY: "Đã có kết quả",
    DOSSIER_STATE_DELIVERED: "Đã trả kết quả",
    DOSSIER_STATE_WITHDRAWN: "Công dân đã rút hồ sơ",
    DOSSIER_STATE_REFUSED: "Từ chối giải quyết",
    DOSSIER_STATE_RETURNED: "Đã trả lại hồ sơ (không bổ sung trong thời hạn)",
    DOSSIER_STATE_PENDING_ACCEPTANCE: "Chờ tiếp nhận"
  };
  var CHANNELS = { CHANNEL_DIRECT: "Trực tiếp", CHANNEL_ONLINE: "Trực tuyến",
                   CHANNEL_POSTAL: "Bưu chính công ích" };
  var EVENTS = {
    submitted: "Đã nộp trực tuyến", received: "Đã tiếp nhận", accepted: "Đã tiếp nhận hồ sơ trực tuyến",
    routed: "Chuyển bộ phận xử lý", sent_to_agency: "Chuyển cơ quan giải quyết",
    step_done: "Hoàn thành một bước xử lý", result_ready: "Đã có kết quả",
    supplement_requested: "Yêu cầu bổ sung hồ sơ", supplemented: "Đã bổ sung hồ sơ",
    withdrawn: "Công dân rút hồ sơ", refused: "Từ chối giải quyết", rated: "Đã đánh giá",
    late: "Quá hạn", apology: "Thư xin lỗi và hẹn lại", extended: "Gia hạn giải quyết",
    returned: "Trả lại hồ sơ", delivered: "Đã trả kết quả"
  };
  var dateFmt = new Intl.DateTimeFormat("vi-VN", { timeZone: "Asia/Ho_Chi_Minh", day: "2-digit",
    month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit", hour12: false });

  /* cookie - a cookie's value, "" when absent */
  function cookie(name) {
    var parts = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf("=");
      if (parts[i].slice(0, eq) === name) return decodeURIComponent(parts[i].slice(eq + 1));
    }
    return "";
  }

  /* csrf - the double-submit token: the cookie mc_csrf, fetched once from the gateway */
  function csrf() {
    var t = cookie("mc_csrf");
    if (t) return Promise.resolve(t);
    return fetch("/v1/public/csrf", { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (j) { return j.token || cookie("mc_csrf"); });
  }

  /* api - a request with a JSON body (or a URLSearchParams form); resolves {status, body};
     token: the X-CSRF-Token to send (or none) */
  function api(method, path, body, token) {
    var headers = { "Accept": "application/json" };
    var form = body instanceof URLSearchParams;
    if (body !== undefined)
      headers["Content-Type"] = form ? "application/x-www-form-urlencoded" : "application/json";
    if (token) headers["X-CSRF-Token"] = token;
    return fetch(path, { method: method, headers: headers, credentials: "same-origin",
                         body: body === undefined ? undefined : form ? body.toString() : JSON.stringify(body) })
      .then(function (r) {
        return r.text().then(function (t) {
          var j = {};
          try { j = t ? JSON.parse(t) : {}; } catch (e) { j = { message: "Phản hồi không hợp lệ từ máy chủ." }; }
          return { status: r.status, body: j };
        });
      }, function () {
        return { status: 0, body: { message: "Không kết nối được tới máy chủ. Vui lòng thử lại." } };
      });
  }

  /* say - show a message in the live region (kind: "", "ok" or "error") */
  function say(el, text, kind) {
    el.textContent = "";
    if (!text) return;
    var p = document.createElement("p");
    p.className = "message" + (kind ? " " + kind : "");
    p.textContent = text;
    el.appendChild(p);
  }

  /* when - epoch seconds (number or int64 string) as dd/mm/yyyy hh:mm in Hà Nội time, "" for 0 */
  function when(s) {
    var n = Number(s || 0);
    return n > 0 ? dateFmt.format(new Date(n * 1000)) : "";
  }

  /* number - 7399 as "7.399" */
  function number(n) { return Number(n || 0).toLocaleString("vi-VN"); }

  return { STATES: STATES, CHANNELS: CHANNELS, EVENTS: EVENTS, cookie: cookie, csrf: csrf,
           api: api, say: say, when: when, number: number };
})();
