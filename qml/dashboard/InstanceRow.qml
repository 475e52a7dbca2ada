// SPDX-License-Identifier: Apache-2.0
pragma ComponentBehavior: Bound
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import "Format.js" as Format

// One instance of a micro-service in the service view (a row of InvokerModel): its state,
// address, weight, uptime, interface and live numbers, and the operator's actions in a menu.
ItemDelegate {
    id: row
    objectName: "instanceRow"

    required property int index
    // The roles of InvokerModel. `state` is Item's own property, so it is read through `model`.
    required property var model
    required property string stage
    required property string address
    required property string transport
    required property int weight
    required property int overrideWeight
    required property int effectiveWeight
    required property bool disabled
    required property int warmupPercent
    required property real uptimeSeconds
    required property string interfaceHash
    required property bool hashMismatch
    required property string stateReason
    required property real callsPerSecond
    required property real errorRate
    required property real p99Ms
    required property int inFlight

    readonly property string instanceState: model.state ?? "unknown"
    // Why the actions are disabled for every row (read-only, no ZooKeeper); empty when allowed.
    property string writeRefusal
    // ... or for this row's stage alone (its nodes belong to other credentials): the
    // actionRefusal role, when the model has it.
    readonly property string refusal: writeRefusal !== "" ? writeRefusal : (model.actionRefusal ?? "")
    readonly property bool actionsAllowed: refusal === ""
    property bool dimmed: false

    signal setWeightClicked()
    signal toggleDisabledClicked()
    signal clearOverrideClicked()

    function openActions() {
        actionsMenu.popup(actionsButton, 0, actionsButton.height);
    }

    readonly property string weightText: {
        let text = qsTr("weight %1").arg(weight);
        if (overrideWeight >= 0)
            text += " → " + qsTr("%1 (override)").arg(overrideWeight);
        return text;
    }
    readonly property string detailsText: {
        const parts = [weightText];
        if (warmupPercent < 100 && !disabled)
            parts.push(qsTr("warming up %1 %").arg(warmupPercent));
        parts.push(qsTr("up %1").arg(uptimeSeconds > 0 ? Format.duration(uptimeSeconds) : "—"));
        parts.push(qsTr("interface %1").arg(Format.shortHash(interfaceHash)));
        return parts.join("  ·  ");
    }

    leftPadding: Theme.spacing
    rightPadding: Theme.smallSpacing
    topPadding: Theme.spacing
    bottomPadding: Theme.spacing
    Accessible.name: address + ", " + Theme.stateText(instanceState)

    ToolTip.visible: hovered && stateReason !== ""
    ToolTip.delay: 600
    ToolTip.text: Theme.stateText(instanceState) + ": " + stateReason

    background: RowBackground {
        control: row
    }

    contentItem: RowLayout {
        spacing: Theme.spacing + 4
        opacity: row.dimmed ? 0.55 : 1

        Rectangle {
            objectName: "stateIndicator"
            Layout.fillHeight: true
            Layout.preferredWidth: 5
            radius: 2
            color: Theme.stateColor(row.instanceState)
        }

        ColumnLayout {
            Layout.fillWidth: true
            Layout.minimumWidth: 200
            spacing: 2

            RowLayout {
                Layout.fillWidth: true
                spacing: Theme.spacing
                Label {
                    objectName: "instanceAddress"
                    text: row.address
                    font.pixelSize: Theme.fontSize + 1
                    font.bold: true
                    elide: Text.ElideMiddle
                    // Shrinks (and elides) only when the row is too narrow for it.
                    Layout.preferredWidth: implicitWidth
                    Layout.minimumWidth: Math.min(implicitWidth, 90)
                }
                Badge {
                    objectName: "tlsBadge"
                    visible: row.transport === "tls"
                    text: qsTr("TLS")
                    tint: Theme.okColor
                }
                Badge {
                    objectName: "disabledBadge"
                    visible: row.disabled
                    text: qsTr("disabled")
                    tint: Theme.stateColor("disabled")
                }
                Badge {
                    objectName: "mixedDeploymentFlag"
                    visible: row.hashMismatch
                    text: qsTr("mixed deployment")
                    tint: Theme.stateColor("overloaded")
                }
                Item { Layout.fillWidth: true }
            }
            Label {
                objectName: "instanceState"
                Layout.fillWidth: true
                text: row.stateReason !== ""
                      ? Theme.stateText(row.instanceState) + " — " + row.stateReason
                      : Theme.stateText(row.instanceState)
                color: Theme.stateColor(row.instanceState)
                font.pixelSize: Theme.smallFontSize + 1
                font.bold: row.instanceState !== "healthy"
                elide: Text.ElideRight
            }
            Label {
                objectName: "instanceDetails"
                Layout.fillWidth: true
                text: row.detailsText
                color: palette.placeholderText
                font.pixelSize: Theme.smallFontSize + 1
                elide: Text.ElideRight
            }
        }

        MetricCell {
            objectName: "callsCell"
            value: Format.number(row.callsPerSecond)
            caption: qsTr("calls/s")
        }
        MetricCell {
            objectName: "errorsCell"
            value: Format.percent(row.errorRate)
            caption: qsTr("errors")
            valueColor: row.errorRate >= 0.05 ? Theme.errorColor
                        : row.errorRate >= 0.01 ? Theme.warningColor : palette.windowText
        }
        MetricCell {
            objectName: "p99Cell"
            value: Format.milliseconds(row.p99Ms)
            caption: qsTr("p99")
        }
        MetricCell {
            objectName: "inFlightCell"
            Layout.preferredWidth: 60
            value: String(row.inFlight)
            caption: qsTr("in flight")
        }

        ToolButton {
            id: actionsButton
            objectName: "rowActionsButton"
            text: "⋯"
            font.pixelSize: Theme.titleFontSize
            focusPolicy: Qt.NoFocus
            Accessible.name: qsTr("Actions on %1").arg(row.address)
            ToolTip.visible: hovered
            ToolTip.delay: 300
            ToolTip.text: row.actionsAllowed ? qsTr("Set weight, disable, clear override")
                                             : qsTr("Actions are disabled: %1").arg(row.refusal)
            onClicked: row.openActions()

            Menu {
                id: actionsMenu
                objectName: "rowActionsMenu"
                MenuItem {
                    objectName: "setWeightAction"
                    text: qsTr("Set weight…")
                    enabled: row.actionsAllowed
                    onTriggered: row.setWeightClicked()
                }
                MenuItem {
                    objectName: "toggleDisabledAction"
                    text: row.disabled ? qsTr("Enable") : qsTr("Disable")
                    enabled: row.actionsAllowed
                    onTriggered: row.toggleDisabledClicked()
                }
                MenuItem {
                    objectName: "clearOverrideAction"
                    text: qsTr("Clear override")
                    enabled: row.actionsAllowed && (row.overrideWeight >= 0 || row.disabled)
                    onTriggered: row.clearOverrideClicked()
                }
                MenuSeparator {
                    visible: !row.actionsAllowed
                    height: visible ? implicitHeight : 0
                }
                MenuItem {
                    objectName: "refusalItem"
                    visible: !row.actionsAllowed
                    height: visible ? implicitHeight : 0
                    enabled: false
                    text: row.refusal
                }
            }
        }
    }
}
