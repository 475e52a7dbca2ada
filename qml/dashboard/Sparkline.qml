// SPDX-License-Identifier: Apache-2.0
pragma ComponentBehavior: Bound
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import QtQuick.Shapes
import "Format.js" as Format

// A small live chart of one series (calls/s, p99 ms): the samples oldest first,
// `intervalMs` apart, values below 0 are gaps (no call answered). Shows the current value,
// the top of the axis (rounded up to 1, 2, 2.5 or 5 × 10ⁿ) and the span of time drawn.
ColumnLayout {
    id: root

    property string title
    property var values: []
    property int intervalMs: 2000
    // The value shown large; by default the newest sample.
    property real current: latest
    // "ms" reads values as durations ("4.2 ms", "1.3 s"); anything else is appended to the number.
    property string unit
    property color lineColor: palette.highlight

    readonly property real latest: {
        for (let i = values.length - 1; i >= 0; --i) {
            if (values[i] >= 0)
                return values[i];
        }
        return -1;
    }
    readonly property real dataMax: {
        let m = 0;
        for (let i = 0; i < values.length; ++i)
            m = Math.max(m, Number(values[i]));
        return m;
    }
    readonly property real axisMax: niceCeiling(dataMax)
    readonly property string maxLabel: format(axisMax)
    readonly property string currentLabel: current >= 0 ? format(current) : qsTr("no calls")
    readonly property string spanLabel: values.length > 1 ? Format.span(values.length * intervalMs) : qsTr("waiting for samples")

    // Runs of consecutive samples ≥ 0, as lists of points in the plot's coordinates.
    readonly property var segments: {
        const w = plot.width, h = plot.height;
        const n = values.length;
        const result = [];
        if (n < 2 || w <= 0 || h <= 0)
            return result;
        let run = [];
        for (let i = 0; i < n; ++i) {
            const v = Number(values[i]);
            if (v >= 0) {
                run.push(Qt.point(i / (n - 1) * w, h - Math.min(v / axisMax, 1) * (h - 1)));
            } else if (run.length) {
                result.push(run);
                run = [];
            }
        }
        if (run.length)
            result.push(run);
        return result;
    }
    // The same runs closed down to the axis, for the tinted area under the line.
    readonly property var areas: segments.map(run => {
        const h = plot.height;
        return run.concat([Qt.point(run[run.length - 1].x, h), Qt.point(run[0].x, h), run[0]]);
    })

    function format(v) {
        if (unit === "ms")
            return Format.milliseconds(v);
        return unit !== "" ? Format.number(v) + " " + unit : Format.number(v);
    }

    function niceCeiling(v) {
        if (!(v > 0))
            return 1;
        const p = Math.pow(10, Math.floor(Math.log(v) / Math.LN10));
        const steps = [1, 2, 2.5, 5, 10];
        for (let i = 0; i < steps.length; ++i) {
            if (v <= steps[i] * p * (1 + 1e-9))
                return steps[i] * p;
        }
        return 10 * p;
    }

    spacing: Theme.smallSpacing

    RowLayout {
        Layout.fillWidth: true
        Label {
            text: root.title
            font.pixelSize: Theme.fontSize
            font.bold: true
            elide: Text.ElideRight
            Layout.fillWidth: true
        }
        Label {
            objectName: "sparklineCurrent"
            text: root.currentLabel
            font.pixelSize: Theme.headingFontSize + 2
            font.bold: true
            color: root.current >= 0 ? root.lineColor : palette.placeholderText
        }
    }

    Rectangle {
        Layout.fillWidth: true
        Layout.fillHeight: true
        Layout.minimumHeight: 70
        Layout.preferredHeight: 110
        color: palette.base
        border.color: palette.mid
        border.width: 1
        radius: 3

        Label {
            objectName: "sparklineMax"
            anchors.left: parent.left
            anchors.top: parent.top
            anchors.margins: 4
            text: root.maxLabel
            font.pixelSize: Theme.smallFontSize
            color: palette.placeholderText
            z: 1
        }
        Label {
            anchors.left: parent.left
            anchors.bottom: parent.bottom
            anchors.margins: 4
            text: "0"
            font.pixelSize: Theme.smallFontSize
            color: palette.placeholderText
            z: 1
        }
        // The top of the axis.
        Rectangle {
            x: plot.x
            y: plot.y
            width: plot.width
            height: 1
            color: palette.mid
        }

        Item {
            id: plot
            anchors.fill: parent
            anchors.topMargin: 8
            anchors.bottomMargin: 4
            anchors.leftMargin: 4
            anchors.rightMargin: 4

            Shape {
                objectName: "sparklineShape"
                anchors.fill: parent
                layer.enabled: true
                layer.samples: 4
                ShapePath {
                    strokeColor: "transparent"
                    fillColor: Qt.rgba(root.lineColor.r, root.lineColor.g, root.lineColor.b, 0.18)
                    PathMultiline { paths: root.areas }
                }
                ShapePath {
                    strokeColor: root.lineColor
                    strokeWidth: 2
                    fillColor: "transparent"
                    joinStyle: ShapePath.RoundJoin
                    capStyle: ShapePath.RoundCap
                    PathMultiline { paths: root.segments }
                }
            }
        }
    }

    RowLayout {
        Layout.fillWidth: true
        Label {
            objectName: "sparklineSpan"
            text: root.spanLabel
            font.pixelSize: Theme.smallFontSize
            color: palette.placeholderText
        }
        Item { Layout.fillWidth: true }
        Label {
            text: qsTr("now")
            font.pixelSize: Theme.smallFontSize
            color: palette.placeholderText
        }
    }
}
