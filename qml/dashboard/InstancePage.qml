// SPDX-License-Identifier: Apache-2.0
pragma ComponentBehavior: Bound
import QtQml
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import "Format.js" as Format

// One instance: what the registry and its status pages say of it (InstanceDetails), its
// live numbers as charts, recent errors, metrics, the interfaces it serves, and a call by
// name to try one of them. Actions as in the service view.
Page {
    id: page
    objectName: "instancePage"

    property string address
    // InstanceDetails (or a test's object with its properties).
    property var details: null
    // InvokerModel: this instance's row gives its weight and override.
    property var invokers: null
    property string writeRefusal
    // Why calls are refused (--read-only); empty when allowed.
    property string callRefusal
    property bool stale: false
    property int historyIntervalMs: details && details.historyIntervalMs > 0 ? details.historyIntervalMs : 2000
    // The last call made from the "Try a call" tab.
    property bool callPending: false
    property bool callOk: true
    property string callResult

    signal setWeightRequested(string stage, string address, int weight)
    signal setDisabledRequested(string stage, string address, bool disabled)
    signal clearOverrideRequested(string stage, string address)
    signal callRequested(string interfaceName, string method, string argumentsJson)

    readonly property bool known: details ? details.known : false
    readonly property bool loaded: details ? details.loaded : false
    readonly property string serviceId: details ? details.microServiceId : ""
    readonly property string stage: details ? details.stage : ""
    readonly property string group: details ? details.group : ""
    readonly property string instanceState: details && details.state ? details.state : "unknown"
    readonly property string stateReason: details ? details.stateReason : ""
    readonly property var node: details && details.node ? details.node : ({})
    readonly property var services: details && details.services ? details.services : []
    readonly property var recentErrors: details && details.recentErrors ? details.recentErrors : []

    // What the instance page needs of a row of the invoker model.
    component InvokerRow: QtObject {
        required property string address
        required property int weight
        required property int overrideWeight
        required property int effectiveWeight
        required property bool disabled
        required property int warmupPercent
        required property string interfaceHash
        required property bool hashMismatch
        required property var model
        // Why this instance's stage refuses actions ("" when allowed, or no such role).
        readonly property string actionRefusal: model.actionRefusal ?? ""
    }

    // This instance's row of the invoker model (weight, override), null when not there.
    readonly property InvokerRow row: {
        for (let i = 0; i < invokerRows.count; ++i) {
            const o = invokerRows.objectAt(i);
            if (o && o.address === page.address)
                return o;
        }
        return null;
    }
    readonly property bool disabled: row ? row.disabled : instanceState === "disabled"
    readonly property int overrideWeight: row ? row.overrideWeight : -1
    readonly property int registeredWeight: row ? row.weight : (node.weight !== undefined ? node.weight : 100)
    // The page's refusal, else the one of the instance's stage (its row's actionRefusal).
    readonly property string refusal: writeRefusal !== "" ? writeRefusal : (row ? row.actionRefusal : "")
    readonly property bool actionsAllowed: refusal === "" && known && stage !== ""

    Instantiator {
        id: invokerRows
        model: page.invokers
        delegate: InvokerRow { }
    }

    title: address
    padding: 0

    ColumnLayout {
        anchors.fill: parent
        spacing: 0

        // Header: address, state, where it is, actions.
        RowLayout {
            Layout.fillWidth: true
            // The state bar fills the header's height, which must not make the header take
            // a share of the page's.
            Layout.fillHeight: false
            Layout.margins: Theme.pageMargin
            Layout.bottomMargin: Theme.spacing
            spacing: Theme.largeSpacing

            Rectangle {
                objectName: "stateIndicator"
                Layout.fillHeight: true
                Layout.preferredWidth: 6
                radius: 3
                color: page.known ? Theme.stateColor(page.instanceState) : Theme.neutralColor
            }

            ColumnLayout {
                Layout.fillWidth: true
                spacing: Theme.smallSpacing

                RowLayout {
                    Layout.fillWidth: true
                    spacing: Theme.spacing
                    Label {
                        objectName: "instanceTitle"
                        text: page.address
                        font.pixelSize: Theme.titleFontSize + 2
                        font.bold: true
                        elide: Text.ElideMiddle
                        Layout.preferredWidth: implicitWidth
                        Layout.minimumWidth: Math.min(implicitWidth, 120)
                    }
                    Badge {
                        objectName: "instanceStateBadge"
                        visible: page.known
                        text: Theme.stateText(page.instanceState)
                        tint: Theme.stateColor(page.instanceState)
                    }
                    Badge {
                        visible: page.details !== null && page.details.transport === "tls"
                        text: qsTr("TLS")
                        tint: Theme.okColor
                    }
                    Badge {
                        visible: page.row !== null && page.row.hashMismatch
                        text: qsTr("mixed deployment")
                        tint: Theme.stateColor("overloaded")
                    }
                    Badge {
                        visible: page.stale
                        text: qsTr("stale: as last seen")
                        tint: Theme.warningColor
                    }
                    Item { Layout.fillWidth: true }
                }
                Label {
                    objectName: "instanceWhere"
                    Layout.fillWidth: true
                    visible: page.serviceId !== ""
                    text: qsTr("%1 · stage %2 · group %3").arg(page.serviceId).arg(page.stage).arg(page.group)
                    font.pixelSize: Theme.fontSize + 1
                    elide: Text.ElideRight
                }
                Label {
                    objectName: "instanceProcess"
                    Layout.fillWidth: true
                    visible: text !== ""
                    text: {
                        const n = page.node, parts = [];
                        if (n.application)
                            parts.push(n.application + (n.version ? " " + n.version : ""));
                        if (n.pid)
                            parts.push(qsTr("pid %1 on %2").arg(n.pid).arg(n.hostName || n.host || "?"));
                        if (n.uptimeSeconds !== undefined)
                            parts.push(qsTr("up %1").arg(Format.duration(n.uptimeSeconds)));
                        if (page.row) {
                            let w = qsTr("weight %1").arg(page.row.weight);
                            if (page.row.overrideWeight >= 0)
                                w += " → " + qsTr("%1 (override)").arg(page.row.overrideWeight);
                            parts.push(w);
                            if (page.row.warmupPercent < 100 && !page.row.disabled)
                                parts.push(qsTr("warming up %1 %").arg(page.row.warmupPercent));
                        }
                        if (n.interfaces)
                            parts.push(qsTr("interface %1").arg(Format.shortHash(n.interfaces)));
                        if (n.qtVersion)
                            parts.push("Qt " + n.qtVersion);
                        return parts.join("  ·  ");
                    }
                    color: palette.placeholderText
                    elide: Text.ElideRight
                }
                Label {
                    objectName: "writeRefusalLabel"
                    Layout.fillWidth: true
                    visible: page.refusal !== ""
                    text: qsTr("Actions are disabled: %1").arg(page.refusal)
                    color: Theme.warningColor
                    wrapMode: Text.Wrap
                }
                Label {
                    objectName: "instanceStateReason"
                    Layout.fillWidth: true
                    visible: page.known && page.stateReason !== ""
                    text: Theme.stateText(page.instanceState) + ": " + page.stateReason
                    color: Theme.stateColor(page.instanceState)
                    font.bold: true
                    wrapMode: Text.Wrap
                }
            }

            ColumnLayout {
                Layout.alignment: Qt.AlignTop
                spacing: Theme.smallSpacing
                RowLayout {
                    Layout.alignment: Qt.AlignRight
                    spacing: Theme.smallSpacing
                    Button {
                        objectName: "setWeightButton"
                        text: qsTr("Set weight…")
                        enabled: page.actionsAllowed
                        onClicked: dialog.askSetWeight(page.stage, page.address,
                                                       page.overrideWeight >= 0 ? page.overrideWeight : page.registeredWeight)
                    }
                    Button {
                        objectName: "toggleDisabledButton"
                        text: page.disabled ? qsTr("Enable") : qsTr("Disable")
                        enabled: page.actionsAllowed
                        onClicked: dialog.askSetDisabled(page.stage, page.address, !page.disabled)
                    }
                    Button {
                        objectName: "clearOverrideButton"
                        text: qsTr("Clear override")
                        enabled: page.actionsAllowed && (page.overrideWeight >= 0 || page.disabled)
                        onClicked: dialog.askClearOverride(page.stage, page.address)
                    }
                }
            }
        }

        // The instance is gone, or has not answered yet.
        Rectangle {
            objectName: "instanceNotice"
            Layout.fillWidth: true
            Layout.leftMargin: Theme.pageMargin
            Layout.rightMargin: Theme.pageMargin
            visible: noticeText.text !== ""
            implicitHeight: noticeText.implicitHeight + 2 * Theme.spacing
            color: page.known ? Theme.infoBackground : Theme.errorBackground
            radius: 3
            Label {
                id: noticeText
                objectName: "instanceNoticeText"
                anchors.fill: parent
                anchors.margins: Theme.spacing
                verticalAlignment: Text.AlignVCenter
                wrapMode: Text.Wrap
                font.bold: true
                text: {
                    if (!page.details)
                        return "";
                    if (!page.known)
                        return qsTr("%1 is no longer in the registry").arg(page.address);
                    if (!page.loaded)
                        return qsTr("Waiting for the status pages of %1…").arg(page.address);
                    return "";
                }
            }
        }

        TabBar {
            id: tabs
            objectName: "instanceTabs"
            Layout.fillWidth: true
            Layout.leftMargin: Theme.pageMargin
            Layout.rightMargin: Theme.pageMargin
            Layout.topMargin: Theme.spacing
            TabButton { text: qsTr("Charts"); width: implicitWidth + 2 * Theme.largeSpacing }
            TabButton { text: qsTr("Services (%1)").arg(page.services.length); width: implicitWidth + 2 * Theme.largeSpacing }
            TabButton { text: qsTr("Recent errors (%1)").arg(page.recentErrors.length); width: implicitWidth + 2 * Theme.largeSpacing }
            TabButton { text: qsTr("Metrics"); width: implicitWidth + 2 * Theme.largeSpacing }
            TabButton { text: qsTr("Try a call"); width: implicitWidth + 2 * Theme.largeSpacing }
        }
        Rectangle {
            Layout.fillWidth: true
            Layout.leftMargin: Theme.pageMargin
            Layout.rightMargin: Theme.pageMargin
            implicitHeight: 1
            color: palette.mid
        }

        StackLayout {
            Layout.fillWidth: true
            Layout.fillHeight: true
            Layout.margins: Theme.pageMargin
            currentIndex: tabs.currentIndex

            // Charts
            ColumnLayout {
                spacing: Theme.largeSpacing
                RowLayout {
                    Layout.fillWidth: true
                    spacing: Theme.largeSpacing * 2
                    Repeater {
                        model: [
                            { caption: qsTr("calls/s"), value: Format.number(page.details ? page.details.callsPerSecond : NaN) },
                            { caption: qsTr("errors"), value: Format.percent(page.details ? page.details.errorRate : NaN) },
                            { caption: qsTr("p99"), value: Format.milliseconds(page.details ? page.details.p99Ms : -1) },
                            { caption: qsTr("in flight"), value: page.details ? String(page.details.inFlight) : "—" }
                        ]
                        ColumnLayout {
                            id: metric
                            required property var modelData
                            spacing: 0
                            Label {
                                text: metric.modelData.value
                                font.pixelSize: Theme.titleFontSize + 4
                                font.bold: true
                            }
                            Label {
                                text: metric.modelData.caption
                                color: palette.placeholderText
                                font.pixelSize: Theme.smallFontSize + 1
                            }
                        }
                    }
                    Item { Layout.fillWidth: true }
                }
                GridLayout {
                    Layout.fillWidth: true
                    Layout.fillHeight: true
                    columns: page.width >= 900 ? 2 : 1
                    columnSpacing: Theme.largeSpacing * 2
                    rowSpacing: Theme.largeSpacing
                    Sparkline {
                        objectName: "callsChart"
                        Layout.fillWidth: true
                        Layout.preferredWidth: 100 // the two charts share the width equally
                        Layout.fillHeight: true
                        Layout.maximumHeight: 360
                        title: qsTr("Calls per second")
                        values: page.details && page.details.callsHistory ? page.details.callsHistory : []
                        intervalMs: page.historyIntervalMs
                        current: page.details ? page.details.callsPerSecond : -1
                        lineColor: Theme.stateColor("starting")
                    }
                    Sparkline {
                        objectName: "p99Chart"
                        Layout.fillWidth: true
                        Layout.preferredWidth: 100 // the two charts share the width equally
                        Layout.fillHeight: true
                        Layout.maximumHeight: 360
                        title: qsTr("p99 latency")
                        unit: "ms"
                        values: page.details && page.details.p99History ? page.details.p99History : []
                        intervalMs: page.historyIntervalMs
                        current: page.details ? page.details.p99Ms : -1
                        lineColor: Theme.stateColor("draining")
                    }
                }
                Item { Layout.fillHeight: true }
            }

            // Services
            ScrollView {
                id: servicesView
                objectName: "servicesView"
                clip: true
                contentWidth: availableWidth
                ColumnLayout {
                    width: servicesView.availableWidth
                    spacing: Theme.largeSpacing
                    Label {
                        visible: page.services.length === 0
                        text: page.loaded ? qsTr("%1 serves no interface").arg(page.address)
                                          : qsTr("The interfaces are read from the instance's status page.")
                        color: palette.placeholderText
                    }
                    Repeater {
                        model: page.services
                        ColumnLayout {
                            id: iface
                            required property var modelData
                            Layout.fillWidth: true
                            spacing: Theme.smallSpacing
                            Label {
                                objectName: "interfaceName"
                                Layout.fillWidth: true
                                text: iface.modelData.service
                                font.pixelSize: Theme.headingFontSize
                                font.bold: true
                                elide: Text.ElideRight
                            }
                            Repeater {
                                model: iface.modelData.methods || []
                                RowLayout {
                                    id: method
                                    required property var modelData
                                    Layout.fillWidth: true
                                    Layout.leftMargin: Theme.largeSpacing
                                    spacing: Theme.spacing
                                    Label {
                                        objectName: "methodSignature"
                                        Layout.preferredWidth: implicitWidth
                                        Layout.minimumWidth: Math.min(implicitWidth, 120)
                                        text: Format.signature(method.modelData)
                                        font.family: Theme.monoFamily
                                        elide: Text.ElideRight
                                    }
                                    Badge {
                                        objectName: "idempotentMark"
                                        visible: method.modelData.idempotent === true
                                        text: qsTr("idempotent")
                                        tint: Theme.okColor
                                    }
                                    Item { Layout.fillWidth: true }
                                }
                            }
                        }
                    }
                }
            }

            // Recent errors
            ColumnLayout {
                spacing: Theme.smallSpacing
                // Column titles above the list, not a ListView header: Qt 6.4 cannot create a
                // header of a list in a file with `pragma ComponentBehavior: Bound`.
                RowLayout {
                    Layout.fillWidth: true
                    Layout.rightMargin: Theme.spacing
                    spacing: Theme.largeSpacing
                    visible: errorList.count > 0
                    Label { Layout.preferredWidth: 80; text: qsTr("Time"); font.bold: true }
                    Label { Layout.fillWidth: true; text: qsTr("Method"); font.bold: true }
                    Label { Layout.preferredWidth: 200; text: qsTr("Error"); font.bold: true }
                    Label { Layout.preferredWidth: 60; text: qsTr("Count"); font.bold: true; horizontalAlignment: Text.AlignRight }
                }
                ListView {
                    id: errorList
                    objectName: "recentErrorsList"
                    Layout.fillWidth: true
                    Layout.fillHeight: true
                    clip: true
                    model: page.recentErrors
                    boundsBehavior: Flickable.StopAtBounds
                    ScrollBar.vertical: ScrollBar { }
                    delegate: RowLayout {
                        id: errorRow
                        required property var modelData
                        width: ListView.view.width - Theme.spacing
                        spacing: Theme.largeSpacing
                        height: implicitHeight + Theme.smallSpacing
                        Label { Layout.preferredWidth: 80; text: errorRow.modelData.time; font.family: Theme.monoFamily }
                        Label { Layout.fillWidth: true; text: errorRow.modelData.method; elide: Text.ElideRight }
                        Label {
                            Layout.preferredWidth: 200
                            text: errorRow.modelData.code
                            color: Theme.errorColor
                            elide: Text.ElideRight
                        }
                        Label {
                            Layout.preferredWidth: 60
                            text: String(errorRow.modelData.count)
                            horizontalAlignment: Text.AlignRight
                        }
                    }
                    Label {
                        objectName: "recentErrorsEmpty"
                        anchors.centerIn: parent
                        visible: errorList.count === 0
                        text: qsTr("No recent error")
                        color: palette.placeholderText
                        font.pixelSize: Theme.headingFontSize
                    }
                }
            }

            // Metrics
            ColumnLayout {
                spacing: Theme.spacing
                TextField {
                    id: metricsFilter
                    objectName: "metricsFilter"
                    Layout.preferredWidth: 360
                    placeholderText: qsTr("Filter metric lines")
                    selectByMouse: true
                }
                ScrollView {
                    id: metricsScroll
                    Layout.fillWidth: true
                    Layout.fillHeight: true
                    background: Rectangle {
                        color: palette.base
                        border.color: palette.mid
                        radius: 2
                    }
                    TextArea {
                        id: metricsArea
                        objectName: "metricsText"
                        readOnly: true
                        selectByMouse: true
                        wrapMode: TextEdit.NoWrap
                        font.family: Theme.monoFamily
                        font.pixelSize: Theme.fontSize - 1
                        placeholderText: qsTr("No metrics yet")
                        // Replaced as the instance is polled; keep the reader's place.
                        readonly property string source: {
                            const text = page.details ? page.details.metricsText : "";
                            const f = metricsFilter.text.trim();
                            if (f === "")
                                return text;
                            return text.split("\n").filter(l => l.indexOf(f) >= 0).join("\n");
                        }
                        onSourceChanged: {
                            const y = metricsScroll.ScrollBar.vertical.position;
                            text = source;
                            metricsScroll.ScrollBar.vertical.position = y;
                        }
                        Component.onCompleted: text = source
                    }
                }
            }

            // Try a call
            ColumnLayout {
                id: callTab
                spacing: Theme.spacing

                // One entry per method: "Service::method".
                readonly property var methods: {
                    const out = [];
                    for (const s of page.services) {
                        for (const m of (s.methods || []))
                            out.push({ text: s.service + "::" + m.name, service: s.service, method: m });
                    }
                    return out;
                }
                readonly property var selected: methodBox.currentIndex >= 0 && methodBox.currentIndex < methods.length
                                                ? methods[methodBox.currentIndex] : null
                readonly property string example: selected ? Format.exampleArguments(selected.method.arguments) : "[]"

                RowLayout {
                    Layout.fillWidth: true
                    spacing: Theme.spacing
                    Label { text: qsTr("Method") }
                    ComboBox {
                        id: methodBox
                        objectName: "callMethod"
                        Layout.preferredWidth: 420
                        model: callTab.methods
                        textRole: "text"
                    }
                    Label {
                        Layout.fillWidth: true
                        text: callTab.selected ? Format.signature(callTab.selected.method) : ""
                        font.family: Theme.monoFamily
                        color: palette.placeholderText
                        elide: Text.ElideRight
                    }
                }
                Label {
                    text: qsTr("Arguments, a JSON array")
                }
                ScrollView {
                    Layout.fillWidth: true
                    Layout.preferredHeight: 120
                    // Wrapped text: its width follows the view's, not the other way round.
                    contentWidth: availableWidth
                    background: Rectangle {
                        color: palette.base
                        border.color: palette.mid
                        radius: 2
                    }
                    TextArea {
                        id: argumentsArea
                        objectName: "callArguments"
                        font.family: Theme.monoFamily
                        placeholderText: callTab.example
                        selectByMouse: true
                        wrapMode: TextEdit.Wrap
                    }
                }
                RowLayout {
                    spacing: Theme.spacing
                    Button {
                        objectName: "callButton"
                        text: qsTr("Call")
                        enabled: callTab.selected !== null && !page.callPending && page.known
                                 && page.callRefusal === ""
                        onClicked: {
                            const text = argumentsArea.text.trim();
                            page.callRequested(callTab.selected.service, callTab.selected.method.name,
                                               text !== "" ? text : (callTab.example === "[]" ? "[]" : callTab.example));
                        }
                    }
                    BusyIndicator {
                        visible: page.callPending
                        running: visible
                        Layout.preferredHeight: 28
                        Layout.preferredWidth: 28
                    }
                    Label {
                        visible: page.callPending
                        text: qsTr("Calling…")
                    }
                    Label {
                        objectName: "callRefusalLabel"
                        visible: page.callRefusal !== ""
                        text: qsTr("Calls are disabled: %1").arg(page.callRefusal)
                        color: palette.placeholderText
                    }
                    Label {
                        objectName: "callOutcome"
                        visible: !page.callPending && page.callResult !== ""
                        text: page.callOk ? qsTr("Result") : qsTr("Error")
                        color: page.callOk ? Theme.okColor : Theme.errorColor
                        font.bold: true
                    }
                }
                ScrollView {
                    Layout.fillWidth: true
                    Layout.fillHeight: true
                    visible: page.callResult !== ""
                    // Wrapped text: its width follows the view's, not the other way round.
                    contentWidth: availableWidth
                    background: Rectangle {
                        color: palette.base
                        border.color: palette.mid
                        radius: 2
                    }
                    TextArea {
                        objectName: "callResult"
                        readOnly: true
                        selectByMouse: true
                        text: page.callResult
                        color: page.callOk ? palette.text : Theme.errorColor
                        font.family: Theme.monoFamily
                        wrapMode: TextEdit.Wrap
                    }
                }
                Item {
                    Layout.fillHeight: true
                    visible: page.callResult === ""
                }
            }
        }
    }

    ActionDialog {
        id: dialog
        serviceId: page.serviceId
        writeRefusal: page.refusal
        onSetWeightConfirmed: (stage, address, weight) => page.setWeightRequested(stage, address, weight)
        onSetDisabledConfirmed: (stage, address, disabled) => page.setDisabledRequested(stage, address, disabled)
        onClearOverrideConfirmed: (stage, address) => page.clearOverrideRequested(stage, address)
    }
}
