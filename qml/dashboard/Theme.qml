// SPDX-License-Identifier: Apache-2.0
pragma Singleton
import QtQuick

// Colours and sizes the views share beyond the palette: what an instance's state or a client's
// circuit breaker looks like, in a light and a dark variant (Main.qml sets `dark` from the
// program's --dark). Every other colour comes from the palette the program sets.
QtObject {
    id: theme

    property bool dark: false

    readonly property int spacing: 8
    readonly property int smallSpacing: 4
    readonly property int largeSpacing: 16
    readonly property int pageMargin: 16

    readonly property int smallFontSize: 11
    readonly property int fontSize: 13
    readonly property int headingFontSize: 15
    readonly property int titleFontSize: 18
    readonly property string monoFamily: "monospace"

    // One colour per instance state (docs/DASHBOARD.md#states), readable as text and as a dot
    // on the window colour of either palette.
    readonly property var stateColors: dark ? ({
        "healthy": "#5cc466",
        "starting": "#5ea8f2",
        "draining": "#c58af9",
        "overloaded": "#f5a142",
        "disabled": "#9aa7b0",
        "not-answering": "#ff6b6b",
        "unknown": "#b39b7d"
    }) : ({
        "healthy": "#2e7d32",
        "starting": "#1565c0",
        "draining": "#7b1fa2",
        "overloaded": "#d35400",
        "disabled": "#546e7a",
        "not-answering": "#c62828",
        "unknown": "#8d6e63"
    })

    readonly property color okColor: stateColors["healthy"]
    readonly property color warningColor: dark ? "#f2c14e" : "#a86400"
    readonly property color errorColor: stateColors["not-answering"]
    readonly property color neutralColor: dark ? "#9e9e9e" : "#757575"
    // Banners: a tinted background that keeps palette.text readable.
    readonly property color warningBackground: dark ? "#4a3b12" : "#fff3cd"
    readonly property color errorBackground: dark ? "#4d1f1f" : "#fde2e1"
    readonly property color infoBackground: dark ? "#1e3550" : "#e3f0fd"

    function stateColor(state) {
        const c = stateColors[state];
        return c !== undefined ? c : stateColors["unknown"];
    }

    // A client's circuit breakers: closed is fine, open is an error, half-open and mixed are
    // on their way back, none (no status page) and unknown say nothing.
    function breakerColor(state) {
        switch (state) {
        case "closed": return okColor;
        case "open": return errorColor;
        case "half-open": return warningColor;
        case "mixed": return stateColors["overloaded"];
        default: return neutralColor;
        }
    }

    function stateText(state) {
        switch (state) {
        case "healthy": return qsTr("healthy");
        case "starting": return qsTr("starting");
        case "draining": return qsTr("draining");
        case "overloaded": return qsTr("overloaded");
        case "disabled": return qsTr("disabled");
        case "not-answering": return qsTr("not answering");
        default: return qsTr("unknown");
        }
    }

    function breakerText(state) {
        switch (state) {
        case "closed": return qsTr("circuit closed");
        case "open": return qsTr("circuit open");
        case "half-open": return qsTr("circuit half-open");
        case "mixed": return qsTr("circuits mixed");
        case "none": return qsTr("no status page");
        default: return qsTr("breaker unknown");
        }
    }
}
