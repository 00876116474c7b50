/* The staff pages' charts (cost ledger, 好孕好运 statistics): each [data-chart] element names a
   json_script block holding {type, labels, …}:
     "costs" — {labels, cost[, messages]}: cost bars in yuan, the month chart adds the messages
               as a line on a second axis;
     "bar"   — {name, unit, labels, values};
     "pie"   — {name, unit, labels, values}.
   The same numbers are in the table beside or under each chart, so every page is complete
   without this script. */
(function () {
  "use strict";
  if (!window.echarts) return;
  var FONT = '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif';
  var AXIS = { color: "#3d4248" };
  var charts = [];

  function base(extra) {
    var option = { animation: false, aria: { enabled: true }, textStyle: { fontFamily: FONT } };
    Object.keys(extra).forEach(function (k) { option[k] = extra[k]; });
    return option;
  }

  function categories(labels) {
    return {
      type: "category",
      data: labels,
      axisLabel: { interval: 0, hideOverlap: true, color: AXIS.color }
    };
  }

  var BUILDERS = {
    costs: function (data) {
      var withLine = Array.isArray(data.messages);
      var series = [{ name: "费用（元）", type: "bar", data: data.cost, barMaxWidth: 36 }];
      var yAxis = [{ type: "value", name: "元", axisLabel: AXIS }];
      if (withLine) {
        series.push({
          name: "已发短信（条）", type: "line", yAxisIndex: 1, data: data.messages, symbolSize: 6
        });
        yAxis.push({ type: "value", name: "条", splitLine: { show: false }, axisLabel: AXIS });
      }
      return base({
        color: ["#a61b1b", "#0b4f9c"],
        grid: { left: 8, right: 8, top: withLine ? 36 : 28, bottom: 8, containLabel: true },
        legend: withLine ? { top: 0 } : { show: false },
        tooltip: { trigger: "axis" },
        xAxis: categories(data.labels),
        yAxis: yAxis,
        series: series
      });
    },
    bar: function (data) {
      return base({
        color: ["#0b4f9c"],
        grid: { left: 8, right: 8, top: 28, bottom: 8, containLabel: true },
        tooltip: { trigger: "axis" },
        xAxis: categories(data.labels),
        yAxis: { type: "value", name: data.unit, axisLabel: AXIS },
        series: [{ name: data.name, type: "bar", data: data.values, barMaxWidth: 36 }]
      });
    },
    pie: function (data) {
      return base({
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
          data: data.labels.map(function (label, i) {
            return { name: label, value: data.values[i] };
          })
        }]
      });
    }
  };

  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var source = document.getElementById(el.getAttribute("data-chart"));
    if (!source) return;
    var data = JSON.parse(source.textContent);
    var build = BUILDERS[data.type];
    if (!build || !data.labels.length) return;
    el.hidden = false;
    var chart = window.echarts.init(el, null, { renderer: "svg" });
    chart.setOption(build(data));
    charts.push(chart);
  });
  window.addEventListener("resize", function () {
    charts.forEach(function (c) { c.resize(); });
  });
})();
