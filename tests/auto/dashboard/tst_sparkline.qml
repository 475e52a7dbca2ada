// SPDX-License-Identifier: Apache-2.0
import QtQuick
import QtTest
import Tomato.Dashboard

// The instance page's small charts: the axis tops at a round number above the data, gaps
// where no call was answered, the newest value and the span of time shown.
Item {
    id: root
    width: 400
    height: 200

    Component {
        id: sparklineComponent
        Sparkline {
            width: 360
            height: 160
            intervalMs: 2000
        }
    }

    TestCase {
        name: "Sparkline"
        when: windowShown

        function init() {
            failOnWarning(/.*/);
        }

        function test_axisTopsAtARoundNumberAboveTheData_data() {
            return [
                { tag: "calls", values: [0, 10, 37, 20], unit: "", max: "50", current: "20" },
                { tag: "exactly round", values: [1, 2, 5], unit: "", max: "5", current: "5" },
                { tag: "two and a half", values: [0.3, 2.4], unit: "", max: "2.5", current: "2.4" },
                { tag: "thousands", values: [1520, 800], unit: "", max: "2 k", current: "800" },
                { tag: "p99 with gaps", values: [-1, 3.2, 7.9, -1], unit: "ms", max: "10 ms", current: "7.9 ms" },
                { tag: "no calls at all", values: [-1, -1, -1], unit: "ms", max: "1 ms", current: "no calls" },
                { tag: "empty", values: [], unit: "", max: "1", current: "no calls" }
            ];
        }

        function test_axisTopsAtARoundNumberAboveTheData(data) {
            const chart = createTemporaryObject(sparklineComponent, root, { values: data.values, unit: data.unit });
            compare(findChild(chart, "sparklineMax").text, data.max);
            compare(findChild(chart, "sparklineCurrent").text, data.current);
            verify(chart.axisMax >= chart.dataMax);
        }

        function test_gapsSplitTheLine() {
            const chart = createTemporaryObject(sparklineComponent, root, { values: [1, 2, -1, 3, 4, 5, -1, -1, 2] });
            tryVerify(() => chart.segments.length > 0);
            compare(chart.segments.map(s => s.length), [2, 3, 1]);
            // Every point lies inside the plot, the highest at its top.
            const points = chart.segments.reduce((all, s) => all.concat(s), []);
            const ys = points.map(p => p.y);
            verify(Math.min(...ys) >= 0);
            verify(Math.min(...ys) <= 1, "the highest sample touches the top: " + ys);
            verify(Math.max(...ys) <= findChild(chart, "sparklineShape").height);
        }

        function test_spanSaysHowMuchTimeIsDrawn() {
            const values = [];
            for (let i = 0; i < 150; ++i)
                values.push(i % 10);
            const chart = createTemporaryObject(sparklineComponent, root, { values: values });
            compare(findChild(chart, "sparklineSpan").text, "last 5 min");
            chart.values = values.slice(0, 20);
            compare(findChild(chart, "sparklineSpan").text, "last 40 s");
        }

        function test_currentValueCanBeGivenApart() {
            const chart = createTemporaryObject(sparklineComponent, root, { values: [1, 2, 3], current: 42 });
            compare(findChild(chart, "sparklineCurrent").text, "42");
        }

        function test_drawsInBothThemes() {
            const chart = createTemporaryObject(sparklineComponent, root, { values: [1, 5, 3, -1, 4] });
            waitForRendering(chart);
            Theme.dark = true;
            waitForRendering(chart);
            Theme.dark = false;
            const image = grabImage(chart);
            verify(image.width > 0);
        }
    }
}
