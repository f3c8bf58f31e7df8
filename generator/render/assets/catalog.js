// pipeline-docs: sort and filter the catalog's tables in the browser, without a server.
// Tables inside an element with class "pd-table" get a filter box and sortable headers.
(function () {
  "use strict";

  function cellText(row, index) {
    var cell = row.cells[index];
    return cell ? cell.textContent.trim() : "";
  }

  function sortBy(table, index, header) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    rows.sort(function (a, b) {
      var order = cellText(a, index).localeCompare(cellText(b, index), undefined, {
        numeric: true,
        sensitivity: "base",
      });
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell) {
      cell.removeAttribute("aria-sort");
    });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }

  function filter(table, words) {
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      var text = row.textContent.toLowerCase();
      var shown = words.every(function (word) { return text.indexOf(word) !== -1; });
      row.hidden = !shown;
    });
  }

  function enhance(container) {
    var table = container.querySelector("table");
    if (!table || !table.tHead || !table.tBodies.length || container.dataset.pdReady) {
      return;
    }
    container.dataset.pdReady = "1";
    var input = document.createElement("input");
    input.type = "search";
    input.className = "pd-filter md-input";
    input.placeholder = "Filter: service, team, version…";
    input.setAttribute("aria-label", "Filter the table");
    input.addEventListener("input", function () {
      filter(table, input.value.toLowerCase().split(/\s+/).filter(Boolean));
    });
    container.insertBefore(input, container.firstChild);
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (header, index) {
      header.tabIndex = 0;
      header.style.cursor = "pointer";
      header.title = "Sort by this column";
      header.addEventListener("click", function () { sortBy(table, index, header); });
      header.addEventListener("keydown", function (event) {
        if (event.key === "Enter") { sortBy(table, index, header); }
      });
    });
  }

  function run() {
    Array.prototype.forEach.call(document.querySelectorAll(".pd-table"), enhance);
  }

  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(run);  // Material's instant navigation
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", run);
  } else {
    run();
  }
})();
