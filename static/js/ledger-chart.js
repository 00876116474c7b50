/* Cost-ledger bar charts: each [data-chart] element names a json_script block holding
   {labels, cost} and, for the month chart, messages. The same numbers are in the table under
   each chart, so the page is complete without this script. */
(function () {
  "use strict";
  if (!window.echarts) return;
  var FONT = '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif';
  var AXIS = { color: "#3d4248" };
  var charts = [];

  function option(data) {
    var withLine = Array.isArray(data.messages);
    var series = [{ name: "费用（元）", type: "bar", data: data.cost, barMaxWidth: 36 }];
    var yAxis = [{ type: "value", name: "元", axisLabel: AXIS }];
    if (withLine) {
      series.push({
        name: "已发短信（条）", type: "line", yAxisIndex: 1, data: data.messages, symbolSize: 6
      });
      yAxis.push({ type: "value", name: "条", splitLine: { show: false }, axisLabel: AXIS });
    }
    return {
      animation: false,
      aria: { enabled: true },
      textStyle: { fontFamily: FONT },
      color: ["#a61b1b", "#0b4f9c"],
      grid: { left: 8, right: 8, top: withLine ? 36 : 28, bottom: 8, containLabel: true },
      legend: withLine ? { top: 0 } : { show: false },
      tooltip: { trigger: "axis" },
      xAxis: {
        type: "category",
        data: data.labels,
        axisLabel: { interval: 0, hideOverlap: true, color: AXIS.color }
      },
      yAxis: yAxis,
      series: series
    };
  }

  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var source = document.getElementById(el.getAttribute("data-chart"));
    if (!source) return;
    var data = JSON.parse(source.textContent);
    if (!data.labels.length) return;
    el.hidden = false;
    var chart = window.echarts.init(el, null, { renderer: "svg" });
    chart.setOption(option(data));
    charts.push(chart);
  });
  window.addEventListener("resize", function () {
    charts.forEach(function (c) { c.resize(); });
  });
})();
