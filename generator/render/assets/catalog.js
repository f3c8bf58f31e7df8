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
  // where build.json is: beside this script's assets folder, for a page without the theme's
  // partial (an engine that does not take the package's overrides: Zensical)
  var script = document.currentScript && document.currentScript.src;
  var beside = script ? script.replace(/assets\/pipeline-docs\/catalog\.js([?#].*)?$/, "build.json") : "";

  function stampLine() {
    var line = document.querySelector(".pd-built[data-pd-build]");
    var article = document.querySelector("article") || document.querySelector("main");
    if (line || !beside || beside === script || !article) { return line; }
    line = document.createElement("p");
    line.className = "pd-built";
    line.hidden = true;
    line.setAttribute("data-pd-build", beside);
    line.appendChild(document.createElement("small"));
    article.appendChild(line);
    return line;
  }

  function hours(ms) {  // an age in words: 90 minutes, 36 hours, 3 days
    var m = Math.floor(ms / 60000), h = Math.floor(m / 60);
    if (h < 2) { return m === 1 ? "1 minute" : m + " minutes"; }
    return h >= 48 ? Math.floor(h / 24) + " days" : h + " hours";
  }

  // Data older than the config's `freshness.stale_after` when the page is read: a site that is
  // no longer rebuilt says so by itself. Worked out here, at view time, never in the page.
  function warnStale(data) {
    var old = document.querySelector(".pd-stale");
    if (old) { old.parentNode.removeChild(old); }
    var limit = typeof data.stale_after === "number" ? data.stale_after * 1000 : 0;
    var now = Date.now();
    var built = Date.parse(data.built);
    if (!limit || isNaN(built)) { return; }
    var stale = [];
    var envs = Array.isArray(data.environments) ? data.environments : [];
    if (!envs.length && now - built > limit) { stale.push("the site (built " + hours(now - built) + " ago)"); }
    envs.forEach(function (env) {
      if (env.status === "unreadable") { return; }  // nothing read, nothing to age: the page says so
      var read = typeof env.read === "string" ? Date.parse(env.read) : built;
      if (!isNaN(read) && now - read > limit) {
        stale.push(String(env.name) + " (read " + hours(now - read) + " ago" +
          (typeof env.read === "string" ? ", repo unreadable now" : "") + ")");
      }
    });
    var article = document.querySelector("article") || document.querySelector("main");
    if (!stale.length || !article) { return; }
    var box = document.createElement("div");
    box.className = "admonition warning pd-stale";
    box.setAttribute("role", "alert");
    var title = document.createElement("p");
    title.className = "admonition-title";
    title.textContent = "Stale data";
    var body = document.createElement("p");
    body.textContent = "What this site says of " + stale.join(", ") + " is older than " +
      hours(limit) + ": what runs there now may differ. The site was built " +
      data.built.slice(0, 16).replace("T", " ") + " UTC.";
    box.appendChild(title);
    box.appendChild(body);
    var heading = article.querySelector("h1");
    if (heading && heading.nextSibling) {
      heading.parentNode.insertBefore(box, heading.nextSibling);
    } else {
      article.insertBefore(box, article.firstChild);
    }
  }

  function stamp() {
    var line = stampLine();
    if (!line) { return; }
    function show(data) {
      if (!data || typeof data.built !== "string") { return; }
      var repos = (Array.isArray(data.environments) ? data.environments : []).map(function (env) {
        var at = typeof env.commit === "string" ? " " + env.commit.slice(0, 7) : " (" + (env.status || "no commit") + ")";
        if (typeof env.read === "string") {  // its repo unreadable now: what an earlier run read
          at += " (from an earlier build, " + env.read.slice(0, 16).replace("T", " ") + " UTC)";
        }
        return String(env.name) + at;
      });
      line.querySelector("small").textContent = "Site built " + data.built.slice(0, 16).replace("T", " ") +
        " UTC" + (repos.length ? " from the env repos at " + repos.join(", ") : "") + ".";
      line.hidden = false;
      pin(data);
      warnStale(data);
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
