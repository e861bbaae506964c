<#
.SYNOPSIS
    netseg collection script for Hyper-V hosts: writes one JSON file for `netseg import hyperv`.

.DESCRIPTION
    Reads the host's virtual networking and the management OS's addresses and firewall, and
    writes them as one JSON document. It only reads: nothing on the host is changed.

    Run it as an administrator (member of "Hyper-V Administrators" and of the local
    Administrators group, which Get-NetFirewallRule needs), on the host:

        powershell -ExecutionPolicy Bypass -File hyperv.ps1 -OutFile C:\temp\HV01.json

    or on many hosts at once from a management station (WinRM), one file per host:

        $hosts = 'HV01', 'HV02'
        Invoke-Command -ComputerName $hosts -FilePath .\hyperv.ps1 |
            ForEach-Object { $_.Json | Set-Content -Encoding UTF8 -Path ".\$($_.ComputerName).json" }

    Without -OutFile the script returns an object with ComputerName and Json, which is what
    Invoke-Command brings back. Windows PowerShell 5.1 and PowerShell 7 both work: 5.1 writes
    enumerations as integers, 7 as names (-EnumsAsStrings); netseg reads either.

.PARAMETER OutFile
    Where to write the JSON (UTF-8). Absent: the JSON is returned to the caller.
#>
[CmdletBinding()]
param(
    [string] $OutFile
)

$ErrorActionPreference = 'Stop'
# Windows PowerShell 5.1 serialises arrays held in a PSObject as {"value": [...], "Count": n}
# because of the Count property its type data adds; removing that type data writes plain arrays.
if ($PSVersionTable.PSVersion.Major -lt 6) {
    Remove-TypeData -TypeName System.Array -ErrorAction SilentlyContinue
}

$adapters = @(Get-VMNetworkAdapter -All)

$collection = [ordered]@{
    NetsegCollection = 'hyperv'
    FormatVersion    = 1
    ComputerName     = $env:COMPUTERNAME
    CollectedAt      = (Get-Date).ToUniversalTime().ToString('o')
    PSVersion        = $PSVersionTable.PSVersion.ToString()

    VMSwitch = @(Get-VMSwitch | Select-Object Name, Id, SwitchType, AllowManagementOS,
        NetAdapterInterfaceDescription, NetAdapterInterfaceDescriptions, EmbeddedTeamingEnabled)

    VMNetworkAdapter = @($adapters | Select-Object Name, Id, VMName, VMId, IsManagementOs,
        SwitchName, MacAddress, IPAddresses, DhcpGuard, RouterGuard, MacAddressSpoofing,
        PortMirroringMode, Connected)

    VMNetworkAdapterVlan = @($adapters | Get-VMNetworkAdapterVlan | Select-Object `
        @{ Name = 'AdapterId'; Expression = { $_.ParentAdapter.Id } },
        OperationMode, AccessVlanId, NativeVlanId, AllowedVlanIdList, AllowedVlanIdListString,
        PrivateVlanMode, PrimaryVlanId, SecondaryVlanId, SecondaryVlanIdList)

    VMNetworkAdapterIsolation = @($adapters | Get-VMNetworkAdapterIsolation | Select-Object `
        @{ Name = 'AdapterId'; Expression = { $_.ParentAdapter.Id } },
        IsolationMode, AllowUntaggedTraffic, DefaultIsolationID, MultiTenantStack)

    # the guests' addresses with their subnet masks (the KVP integration service reports them)
    GuestNetworkAdapterConfiguration = @(try {
            Get-CimInstance -Namespace root\virtualization\v2 -ErrorAction Stop `
                -ClassName Msvm_GuestNetworkAdapterConfiguration |
                Select-Object InstanceID, IPAddresses, Subnets
        } catch {
            Write-Warning "guest addresses not collected: $($_.Exception.Message)"
        })

    NetAdapter = @(Get-NetAdapter | Select-Object Name, InterfaceDescription,
        InterfaceIndex, MacAddress, Virtual, Status)

    NetIPAddress = @(Get-NetIPAddress | Select-Object InterfaceIndex, InterfaceAlias, IPAddress,
        PrefixLength, AddressFamily)

    NetConnectionProfile = @(Get-NetConnectionProfile -ErrorAction SilentlyContinue | Select-Object InterfaceIndex,
        InterfaceAlias, NetworkCategory)

    NetFirewallProfile = @(Get-NetFirewallProfile -PolicyStore ActiveStore |
        Select-Object Name, Enabled, DefaultInboundAction)
}

# The inbound rules in force (local and Group Policy merged): each with its port and address
# filters, joined on InstanceID as the NetSecurity module itself does.
$rules = @(Get-NetFirewallRule -PolicyStore ActiveStore -Direction Inbound -Enabled True)
$ports = @{}
foreach ($f in @(Get-NetFirewallPortFilter -PolicyStore ActiveStore)) { $ports[$f.InstanceID] = $f }
$addresses = @{}
foreach ($f in @(Get-NetFirewallAddressFilter -PolicyStore ActiveStore)) { $addresses[$f.InstanceID] = $f }
$collection.NetFirewallRule = @(foreach ($r in $rules) {
        $p = $ports[$r.InstanceID]
        $a = $addresses[$r.InstanceID]
        [pscustomobject][ordered]@{
            Name          = $r.Name
            DisplayName   = $r.DisplayName
            Enabled       = $r.Enabled
            Direction     = $r.Direction
            Action        = $r.Action
            Profile       = $r.Profile
            Protocol      = if ($p) { [string]$p.Protocol } else { 'Any' }
            # typed arrays: an if statement would unroll a one-element list to a scalar
            LocalPort     = [string[]]@(if ($p) { $p.LocalPort } else { 'Any' })
            RemoteAddress = [string[]]@(if ($a) { $a.RemoteAddress } else { 'Any' })
        }
    })

# Depth 4 holds every list above (root 0, section 1, object 2, list 3); the default of 2 would
# write the lists as strings.
if ($PSVersionTable.PSVersion.Major -ge 7) {
    $json = $collection | ConvertTo-Json -Depth 4 -EnumsAsStrings
} else {
    $json = $collection | ConvertTo-Json -Depth 4
}

if ($OutFile) {
    # .NET resolves relative paths against the process's folder, not PowerShell's location
    $path = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($OutFile)
    [System.IO.File]::WriteAllText($path, $json, (New-Object System.Text.UTF8Encoding $false))
    Write-Verbose "wrote $path"
} else {
    [pscustomobject]@{ ComputerName = $env:COMPUTERNAME; Json = $json }
}
