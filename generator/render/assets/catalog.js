// pipeline-docs: sort and filter the catalog's tables in the browser, without a server.
// Tables inside an element with class "pd-table" get a filter box and sortable headers. In the
// matrix (a table with class "pd-matrix"), a word of the filter that names an environment (its
// name, or a part of it between "-", "_" or ".", or the start of one) keeps only the columns of
// the environments it names, and only the services that run in one of them; the other words
// filter the services.
(function () {
  "use strict";

  function each(list, fn) { Array.prototype.forEach.call(list, fn); }

  function headers(table) {
    var rows = table.tHead.rows;
    return rows[rows.length - 1].cells;  // the last header row has a cell per column
  }

  function sortKey(row, index) {
    var cell = row.cells[index];
    if (!cell) { return ""; }
    return cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
  }

  function sortBy(table, index, header) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    rows.sort(function (a, b) {
      var x = sortKey(a, index), y = sortKey(b, index);
      if (!x !== !y) { return x ? -1 : 1; }  // empty cells last, either way
      var order = x.localeCompare(y, undefined, { numeric: true, sensitivity: "base" });
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    each(headers(table), function (cell) { cell.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }

  function namesEnvironment(word, name) {
    if (name.indexOf(word) === 0) { return true; }
    return name.split(/[-_.]/).some(function (part) { return part.indexOf(word) === 0; });
  }

  function showColumns(table, shown) {
    each(table.querySelectorAll("[data-env]"), function (cell) {
      cell.hidden = shown !== null && shown.indexOf(cell.getAttribute("data-env")) === -1;
    });
    each(table.querySelectorAll("th.pd-group"), function (group) {
      var id = group.getAttribute("data-group");
      var count = table.querySelectorAll('tr.pd-heads th[data-group="' + id + '"]:not([hidden])').length;
      group.hidden = count === 0;
      if (count) { group.colSpan = count; }
    });
  }

  function filter(table, words) {
    var names = [];
    each(headers(table), function (cell) {
      if (cell.hasAttribute("data-env")) { names.push(cell.getAttribute("data-env")); }
    });
    var shown = null, rest = [];
    words.forEach(function (word) {
      var named = names.filter(function (name) { return namesEnvironment(word, name.toLowerCase()); });
      if (named.length) {
        shown = (shown || []).concat(named);
      } else {
        rest.push(word);
      }
    });
    if (names.length) { showColumns(table, shown); }
    each(table.tBodies[0].rows, function (row) {
      var text = "", deployed = shown === null;
      each(row.cells, function (cell) {
        if (cell.hidden) { return; }
        text += " " + cell.textContent.toLowerCase();
        if (cell.hasAttribute("data-env") && cell.getAttribute("data-sort")) { deployed = true; }
      });
      row.hidden = !deployed || !rest.every(function (word) { return text.indexOf(word) !== -1; });
    });
  }

  function enhance(container) {
    var table = container.querySelector("table");
    if (!table || !table.tHead || !table.tBodies.length || container.dataset.pdReady) {
      return;
    }
    container.dataset.pdReady = "1";
    var matrix = table.classList.contains("pd-matrix");
    var input = document.createElement("input");
    input.type = "search";
    input.className = "pd-filter";
    input.placeholder = matrix ? "Filter: service, team, version or environment…"
                               : "Filter: service, team, version…";
    input.setAttribute("aria-label", "Filter the table");
    input.addEventListener("input", function () {
      filter(table, input.value.toLowerCase().split(/\s+/).filter(Boolean));
    });
    container.insertBefore(input, container.firstChild);
    each(headers(table), function (header, index) {
      header.tabIndex = 0;
      header.style.cursor = "pointer";
      header.title = (header.title ? header.title + ". " : "") + "Sort by this column";
      header.addEventListener("click", function (event) {
        if (event.target.closest && event.target.closest("a")) { return; }  // a link: follow it
        sortBy(table, index, header);
      });
      header.addEventListener("keydown", function (event) {
        if (event.key === "Enter") { sortBy(table, index, header); }
      });
    });
  }

  // The build stamp under each page, from build.json: when the site was built, and the commit
  // of each env repo it read. Text only (textContent): names come from the inputs.
  var build = null;

  function stamp() {
    var line = document.querySelector(".pd-built[data-pd-build]");
    if (!line) { return; }
    function show(data) {
      if (!data || typeof data.built !== "string") { return; }
      var repos = (Array.isArray(data.environments) ? data.environments : []).map(function (env) {
        var at = typeof env.commit === "string" ? " " + env.commit.slice(0, 7) : " (" + (env.status || "no commit") + ")";
        return String(env.name) + at;
      });
      line.querySelector("small").textContent = "Site built " + data.built.slice(0, 16).replace("T", " ") +
        " UTC" + (repos.length ? " from the env repos at " + repos.join(", ") : "") + ".";
      line.hidden = false;
      pin(data);
    }
    if (build) { show(build); return; }
    if (!window.fetch) { return; }
    fetch(line.getAttribute("data-pd-build"), { cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { build = data; show(data); })
      .catch(function () { /* opened from disk, or no build.json: no stamp */ });
  }

  // A link to a file of an env repo points at its branch in the page; here it is pinned to the
  // commit the site was built from (build.json), so it shows what was read. Only a whole
  // `/blob/<branch>/` segment is replaced, by a commit id of hex digits.
  function pin(data) {
    var commits = {};
    (Array.isArray(data.environments) ? data.environments : []).forEach(function (env) {
      if (typeof env.commit === "string" && /^[0-9a-f]{7,64}$/.test(env.commit)) {
        commits[String(env.name)] = env.commit;
      }
    });
    each(document.querySelectorAll("[data-pd-pin]"), function (holder) {
      var commit = commits[holder.getAttribute("data-pd-pin")];
      var link = holder.querySelector("a[href]");
      if (!commit || !link) { return; }
      var segment = "/blob/" + holder.getAttribute("data-pd-at") + "/";
      var href = link.getAttribute("href");
      var at = href.indexOf(segment);
      if (at !== -1) {
        link.setAttribute("href", href.slice(0, at) + "/blob/" + commit + "/" + href.slice(at + segment.length));
      }
    });
  }

  function run() {
    each(document.querySelectorAll(".pd-table"), enhance);
    stamp();
  }

  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(run);  // Material's instant navigation
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", run);
  } else {
    run();
  }
})();
