/* 好孕好运 statistics charts: each [data-chart] element names a json_script block holding
   {type: "bar" | "pie", name, unit, labels, values}. The same numbers are in the table beside
   or under each chart, so the page is complete without this script. */
(function () {
  "use strict";
  if (!window.echarts) return;
  var FONT = '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif';
  var AXIS = { color: "#3d4248" };
  var COLORS = ["#0b4f9c", "#c8962a", "#a61b1b"];
  var charts = [];

  function pie(data) {
    return {
      animation: false,
      aria: { enabled: true },
      textStyle: { fontFamily: FONT },
      color: ["#2e7d32", "#c8962a", "#a61b1b"],
      tooltip: { trigger: "item", formatter: "{b}：{c}" + data.unit + "（{d}%）" },
      legend: { bottom: 0 },
      series: [{
        name: data.name,
        type: "pie",
        radius: ["35%", "65%"],
        top: 0,
        bottom: 28,
        label: { formatter: "{b}\n{d}%" },
        data: data.labels.map(function (label, i) { return { name: label, value: data.values[i] }; })
      }]
    };
  }

  function bar(data) {
    return {
      animation: false,
      aria: { enabled: true },
      textStyle: { fontFamily: FONT },
      color: [COLORS[0]],
      grid: { left: 8, right: 8, top: 28, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis" },
      xAxis: {
        type: "category",
        data: data.labels,
        axisLabel: { interval: 0, hideOverlap: true, color: AXIS.color }
      },
      yAxis: { type: "value", name: data.unit, axisLabel: AXIS },
      series: [{ name: data.name, type: "bar", data: data.values, barMaxWidth: 36 }]
    };
  }

  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var source = document.getElementById(el.getAttribute("data-chart"));
    if (!source) return;
    var data = JSON.parse(source.textContent);
    if (!data.labels.length) return;
    el.hidden = false;
    var chart = window.echarts.init(el, null, { renderer: "svg" });
    chart.setOption(data.type === "pie" ? pie(data) : bar(data));
    charts.push(chart);
  });
  window.addEventListener("resize", function () {
    charts.forEach(function (c) { c.resize(); });
  });
})();
