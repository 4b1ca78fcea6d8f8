/* phuong.js - the ward's dashboard: login (POST /v1/staff/login), then the
   period's report as the gateway gives it (the JSON of `motcua report
   --format json`), the chart (SVG), the overdue / due-soon list and the
   backlog; CSV download. State-changing requests carry X-CSRF-Token. */
"use strict";
(function () {
  var note = document.getElementById("thong-bao");
  var login = document.getElementById("form-dang-nhap");
  var board = document.getElementById("bang-dieu-khien");
  var session = null; /* {username, ward, wardName, csrf} */

  function set(id, text) { document.getElementById(id).textContent = text; }
  function cell(tr, text, cls) {
    var td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }

  /* quarter - the current quarter's first and last day (local) as YYYY-MM-DD */
  function quarter() {
    var d = new Date(), q = Math.floor(d.getMonth() / 3);
    function iso(y, m, day) { return y + "-" + String(m + 1).padStart(2, "0") + "-" + String(day).padStart(2, "0"); }
    var last = new Date(d.getFullYear(), q * 3 + 3, 0);
    return [iso(d.getFullYear(), q * 3, 1), iso(last.getFullYear(), last.getMonth(), last.getDate())];
  }

  function period() {
    return "from=" + encodeURIComponent(document.getElementById("tu-ngay").value) +
           "&to=" + encodeURIComponent(document.getElementById("den-ngay").value);
  }

  function showReport(r) {
    var t = r.total, body = document.querySelector("#bang-kenh tbody");
    body.textContent = "";
    (r.months || []).forEach(function (m) {
      var tr = document.createElement("tr");
      var th = document.createElement("th");
      th.scope = "row";
      th.textContent = m.month.slice(5) + "/" + m.month.slice(0, 4);
      tr.appendChild(th);
      [m.received.direct, m.received.online, m.received.postal, m.resolved.in_time, m.resolved.late]
        .forEach(function (n) { cell(tr, MC.number(n), "num"); });
      body.appendChild(tr);
    });
    set("bang-kenh-ky", "Kỳ từ " + r.period.from.split("-").reverse().join("/") + " đến " +
        r.period.to.split("-").reverse().join("/"));
    set("tong-truc-tiep", MC.number(t.received.direct));
    set("tong-truc-tuyen", MC.number(t.received.online));
    set("tong-buu-chinh", MC.number(t.received.postal));
    set("tong-dung-han", MC.number(t.resolved.early + t.resolved.on_time));
    set("tong-tre-han", MC.number(t.resolved.late));
    set("th-chuyen-qua", MC.number(t.received.carried_over));
    set("th-moi", MC.number(t.received["new"]));
    set("th-da-giai-quyet", MC.number(t.resolved.total));
    set("th-ket-qua", MC.number(t.resolved.early) + " / " + MC.number(t.resolved.on_time) + " / " + MC.number(t.resolved.late));
    set("th-dang", MC.number(t.open.in_time) + " / " + MC.number(t.open.overdue));
    document.getElementById("bieu-do").src = "/v1/staff/report.svg?" + period();
    document.getElementById("tai-csv").href = "/v1/staff/report.csv?" + period();
  }

  /* showOpen - the overdue / due-soon list and the backlog per desk and agency */
  function showOpen(list) {
    var body = document.querySelector("#bang-qua-han tbody");
    body.textContent = "";
    (list.dossiers || []).forEach(function (d) {
      var tr = document.createElement("tr");
      cell(tr, d.code);
      cell(tr, d.procedureName || d.procedure);
      cell(tr, MC.when(d.dueAt));
      cell(tr, d.overdue ? "Quá hạn" : (d.extended ? "Đã gia hạn" : "Sắp đến hạn"), d.overdue ? "late" : "soon");
      cell(tr, d.where);
      body.appendChild(tr);
    });
    document.getElementById("khong-qua-han").hidden = (list.dossiers || []).length > 0;
    var backlog = document.querySelector("#bang-ton tbody");
    backlog.textContent = "";
    (list.backlog || []).forEach(function (b) {
      var tr = document.createElement("tr");
      cell(tr, b.holder);
      cell(tr, MC.number(b.overdue), "num");
      cell(tr, MC.number(b.count), "num");
      backlog.appendChild(tr);
    });
  }

  // each load, and each logout, starts a new generation: the answers of a
  // load overtaken by a logout (or by a later load) are dropped, so they
  // cannot show a report after "Đã đăng xuất."
  var generation = 0;

  function load() {
    var mine = ++generation;
    MC.say(note, "Đang tải báo cáo…");
    var p = period();
    Promise.all([MC.api("GET", "/v1/staff/report?" + p), MC.api("GET", "/v1/staff/open")])
      .then(function (rs) {
      if (mine !== generation) return;
      var bad = rs.filter(function (r) { return r.status !== 200; })[0];
      if (bad) {
        if (bad.status === 401) return start();
        MC.say(note, bad.body.message || "Không tải được báo cáo.", "error");
        return;
      }
      showReport(rs[0].body);
      showOpen(rs[1].body);
      document.getElementById("bao-cao").hidden = false;
      MC.say(note, "Đã tải báo cáo.", "ok");
    });
  }

  function enter(s) {
    session = s;
    login.hidden = true;
    board.hidden = false;
    set("db-can-bo", s.username);
    set("db-phuong", s.wardName || s.ward);
    set("tieu-de", "Báo cáo tình hình giải quyết hồ sơ — " + (s.wardName || s.ward));
    load();
  }

  function start() {
    generation++;
    session = null;
    board.hidden = true;
    login.hidden = false;
    document.getElementById("ten").focus();
  }

  login.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var user = document.getElementById("ten").value.trim(), pass = document.getElementById("mat-khau").value;
    if (!user || !pass) {
      MC.say(note, "Vui lòng nhập tên đăng nhập và mật khẩu.", "error");
      return;
    }
    document.getElementById("nut-dang-nhap").disabled = true;
    MC.csrf().then(function (t) {
      return MC.api("POST", "/v1/staff/login", new URLSearchParams({ username: user, password: pass }), t);
    }).then(function (r) {
      document.getElementById("nut-dang-nhap").disabled = false;
      document.getElementById("mat-khau").value = "";
      if (r.status === 200) enter(r.body);
      else MC.say(note, r.body.message || "Đăng nhập không thành công.", "error");
    });
  });

  document.getElementById("form-ky").addEventListener("submit", function (ev) {
    ev.preventDefault();
    load();
  });

  document.getElementById("nut-dang-xuat").addEventListener("click", function () {
    MC.api("POST", "/v1/staff/logout", {}, session && session.csrf).then(function () {
      MC.say(note, "Đã đăng xuất.", "ok");
      start();
    });
  });

  var q = quarter(), params = new URLSearchParams(location.search);
  document.getElementById("tu-ngay").value = params.get("from") || q[0];
  document.getElementById("den-ngay").value = params.get("to") || q[1];
  MC.api("GET", "/v1/staff/me").then(function (r) {
    if (r.status === 200) enter(r.body); else { MC.say(note, ""); start(); }
  });
})();
