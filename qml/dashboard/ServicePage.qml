// SPDX-License-Identifier: Apache-2.0
pragma ComponentBehavior: Bound
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import "Format.js" as Format

// One micro-service: its instances grouped by stage and group, and its clients; two columns
// from 1280 px wide, stacked below that. The operator's actions are asked for here and
// carried out by whoever connects the *Requested signals (Main.qml: the Dashboard).
Page {
    id: page
    objectName: "servicePage"

    property string serviceId
    // InvokerModel (or a ListModel with its roles and a `sections` property).
    property var invokers: null
    // ConsumerModel (or a ListModel with its roles).
    property var consumers: null
    property string writeRefusal
    property bool stale: false

    readonly property bool wide: width >= 1280
    readonly property var sections: invokers && invokers.sections ? invokers.sections : []
    readonly property int instanceCount: invokerList.count
    readonly property int healthyCount: {
        let n = 0;
        for (let i = 0; i < sections.length; ++i)
            n += sections[i].healthy;
        return n;
    }
    readonly property int stageCount: {
        let n = 0;
        for (let i = 0; i < sections.length; ++i) {
            if (sections[i].firstInStage)
                ++n;
        }
        return n;
    }

    signal instanceActivated(string address)
    signal setWeightRequested(string stage, string address, int weight)
    signal setDisabledRequested(string stage, string address, bool disabled)
    signal clearOverrideRequested(string stage, string address)

    function focusList() {
        invokerList.forceActiveFocus();
    }

    title: serviceId
    padding: 0

    ColumnLayout {
        anchors.fill: parent
        spacing: 0

        ColumnLayout {
            Layout.fillWidth: true
            Layout.margins: Theme.pageMargin
            Layout.bottomMargin: Theme.spacing
            spacing: Theme.smallSpacing

            RowLayout {
                Layout.fillWidth: true
                spacing: Theme.spacing
                Label {
                    objectName: "serviceTitle"
                    Layout.preferredWidth: implicitWidth
                    Layout.minimumWidth: Math.min(implicitWidth, 120)
                    text: page.serviceId
                    font.pixelSize: Theme.titleFontSize + 2
                    font.bold: true
                    elide: Text.ElideMiddle
                }
                Badge {
                    objectName: "staleMark"
                    visible: page.stale
                    text: qsTr("stale: as last seen")
                    tint: Theme.warningColor
                }
                Item { Layout.fillWidth: true }
            }
            Label {
                objectName: "serviceSummary"
                Layout.fillWidth: true
                text: {
                    const parts = [Format.count(page.instanceCount, qsTr("instance"), qsTr("instances"))
                                   + " " + qsTr("in %1").arg(Format.count(page.stageCount, qsTr("stage"), qsTr("stages")))];
                    if (page.instanceCount > 0)
                        parts.push(qsTr("%1 healthy").arg(page.healthyCount));
                    parts.push(Format.count(consumerList.count, qsTr("client"), qsTr("clients")));
                    return parts.join(" · ");
                }
                color: palette.placeholderText
                elide: Text.ElideRight
            }
            Label {
                objectName: "writeRefusalLabel"
                Layout.fillWidth: true
                visible: page.writeRefusal !== ""
                text: qsTr("Actions are disabled: %1").arg(page.writeRefusal)
                color: Theme.warningColor
                wrapMode: Text.Wrap
            }
        }

        // Two columns from 1280 px (instances wide on the left, clients on the right), stacked
        // below that. Placed by hand: a GridLayout whose `columns` flips while it is first
        // laid out keeps the old placement in Qt 6.4.
        Item {
            id: body
            Layout.fillWidth: true
            Layout.fillHeight: true
            Layout.leftMargin: Theme.pageMargin
            Layout.rightMargin: Theme.pageMargin
            Layout.bottomMargin: Theme.pageMargin

            readonly property real consumerWidth: Math.max(380, Math.round(page.width * 0.3))

            Frame {
                id: invokerPanel
                objectName: "invokerPanel"
                x: 0
                y: 0
                width: page.wide ? body.width - body.consumerWidth - Theme.pageMargin : body.width
                height: page.wide ? body.height : Math.round((body.height - Theme.pageMargin) * 0.62)
                padding: 1

                ColumnLayout {
                    anchors.fill: parent
                    spacing: 0
                    Label {
                        Layout.fillWidth: true
                        Layout.margins: Theme.spacing
                        text: qsTr("Instances")
                        font.pixelSize: Theme.headingFontSize
                        font.bold: true
                    }
                    InvokerList {
                        id: invokerList
                        Layout.fillWidth: true
                        Layout.fillHeight: true
                        model: page.invokers
                        sections: page.sections
                        writeRefusal: page.writeRefusal
                        stale: page.stale
                        focus: true
                        KeyNavigation.tab: consumerList
                        onInstanceActivated: address => page.instanceActivated(address)
                        onSetWeightClicked: (stage, address, weight) => dialog.askSetWeight(stage, address, weight)
                        onToggleDisabledClicked: (stage, address, disabled) => dialog.askSetDisabled(stage, address, !disabled)
                        onClearOverrideClicked: (stage, address) => dialog.askClearOverride(stage, address)

                        Label {
                            objectName: "invokerListEmpty"
                            anchors.centerIn: parent
                            width: parent.width - 2 * Theme.largeSpacing
                            visible: invokerList.count === 0
                            text: qsTr("No instance of %1 is registered").arg(page.serviceId)
                            horizontalAlignment: Text.AlignHCenter
                            wrapMode: Text.Wrap
                            color: palette.placeholderText
                        }
                    }
                }
            }

            Frame {
                objectName: "consumerPanel"
                x: page.wide ? invokerPanel.width + Theme.pageMargin : 0
                y: page.wide ? 0 : invokerPanel.height + Theme.pageMargin
                width: page.wide ? body.consumerWidth : body.width
                height: body.height - y
                padding: 1

                ColumnLayout {
                    anchors.fill: parent
                    spacing: 0
                    Label {
                        Layout.fillWidth: true
                        Layout.margins: Theme.spacing
                        text: qsTr("Clients")
                        font.pixelSize: Theme.headingFontSize
                        font.bold: true
                    }
                    ConsumerList {
                        id: consumerList
                        Layout.fillWidth: true
                        Layout.fillHeight: true
                        model: page.consumers
                        serviceId: page.serviceId
                        stale: page.stale
                    }
                }
            }
        }
    }

    ActionDialog {
        id: dialog
        serviceId: page.serviceId
        writeRefusal: page.writeRefusal
        onSetWeightConfirmed: (stage, address, weight) => page.setWeightRequested(stage, address, weight)
        onSetDisabledConfirmed: (stage, address, disabled) => page.setDisabledRequested(stage, address, disabled)
        onClearOverrideConfirmed: (stage, address) => page.clearOverrideRequested(stage, address)
    }
}
