// vcsim for netseg's vcenter importer tests: govmomi's vCenter simulator (Debian's govmomi 0.24),
// shaped by an estate file, serving the vSphere SOAP API over HTTPS on 127.0.0.1 only.
//
//	GOPATH=/usr/share/gocode GO111MODULE=off go build -o vcsim main.go
//	./vcsim ESTATE.json      # prints the SDK URL (with the simulator's user:password), then serves
//
// What this simulator version can change through the API goes through the API (DV switches, DV
// port groups, folders, VMs, tags). What it cannot (UpdatePortGroup, AddVirtualNic and
// UpdateVirtualSwitch are missing; AddPortGroup leaves the host's configuration unchanged; no
// neighbour data in QueryNetworkHint) is written into the simulator's own objects before the URL
// is printed, so the importer still reads all of it through the SOAP API with pyVmomi.
package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log"
	"net/url"
	"os"
	"strings"

	"github.com/vmware/govmomi"
	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vapi/rest"
	_ "github.com/vmware/govmomi/vapi/simulator" // the tagging REST endpoints
	"github.com/vmware/govmomi/vapi/tags"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

type Security struct {
	Promiscuous     *bool `json:"promiscuous"`
	MacChanges      *bool `json:"macChanges"`
	ForgedTransmits *bool `json:"forgedTransmits"`
}

type Neighbour struct {
	Protocol   string `json:"protocol"` // cdp | lldp
	SystemName string `json:"systemName"`
	PortID     string `json:"portId"`
	PortDescr  string `json:"portDescription"`
	Vlan       int32  `json:"vlan"`
}

type Pnic struct {
	Device    string     `json:"device"`
	Mac       string     `json:"mac"`
	Neighbour *Neighbour `json:"neighbour"`
}

type Vswitch struct {
	Name     string    `json:"name"`
	Pnics    []string  `json:"pnics"`
	Security *Security `json:"security"`
}

type Portgroup struct {
	Name     string    `json:"name"`
	Vswitch  string    `json:"vswitch"`
	Vlan     int32     `json:"vlan"`
	Security *Security `json:"security"`
}

type Vnic struct {
	Device    string   `json:"device"`
	Portgroup string   `json:"portgroup"` // a standard port group, or a DV port group on Dvs
	Dvs       string   `json:"dvs"`
	IP        string   `json:"ip"`
	Netmask   string   `json:"netmask"`
	IPv6      []string `json:"ipv6"` // ADDRESS/PREFIX
	Mac       string   `json:"mac"`
	Services  []string `json:"services"` // VirtualNicManager nic types: management, vmotion, ...
}

// Ruleset edits one of the host's firewall rulesets (the simulator has ESXi's defaults)
type Ruleset struct {
	Enabled *bool    `json:"enabled"`
	Allowed []string `json:"allowed"` // ADDRESS or NETWORK/PREFIX; empty: every address
}

type Host struct {
	Name       string             `json:"name"`
	Firewall   map[string]Ruleset `json:"firewall"`
	Pnics      []Pnic             `json:"pnics"`
	Vswitches  []Vswitch          `json:"vswitches"`
	Portgroups []Portgroup        `json:"portgroups"`
	Vnics      []Vnic             `json:"vnics"`
}

type DVPortgroup struct {
	Name     string     `json:"name"`
	Vlan     int32      `json:"vlan"`
	Trunk    [][2]int32 `json:"trunk"`
	Pvlan    int32      `json:"pvlan"`
	Security *Security  `json:"security"`
}

type DVSwitch struct {
	Name       string              `json:"name"`
	Uplinks    map[string][]string `json:"uplinks"` // host -> vmnics
	Security   *Security           `json:"security"`
	Portgroups []DVPortgroup       `json:"portgroups"`
}

type VMNic struct {
	Network string   `json:"network"`
	Mac     string   `json:"mac"`
	IPs     []string `json:"ips"` // ADDRESS/PREFIX, as VMware Tools reports them
}

type VM struct {
	Name   string   `json:"name"`
	Host   string   `json:"host"`
	Folder string   `json:"folder"`
	Tags   []string `json:"tags"` // CATEGORY:TAG
	// NoTools: VMware Tools reports nothing (guest.net empty), as for a VM powered off
	NoTools bool    `json:"noTools"`
	Nics    []VMNic `json:"nics"`
}

type Estate struct {
	Hosts      []Host     `json:"hosts"`
	DVSwitches []DVSwitch `json:"dvswitches"`
	VMs        []VM       `json:"vms"`
}

// NetworkSystem answers QueryNetworkHint with the estate's CDP/LLDP neighbours.
type NetworkSystem struct {
	*simulator.HostNetworkSystem
	hints []types.PhysicalNicHintInfo
}

func (s *NetworkSystem) QueryNetworkHint(req *types.QueryNetworkHint) soap.HasFault {
	return &methods.QueryNetworkHintBody{Res: &types.QueryNetworkHintResponse{Returnval: s.hints}}
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func policy(s *Security) *types.HostNetworkSecurityPolicy {
	if s == nil {
		return &types.HostNetworkSecurityPolicy{}
	}
	return &types.HostNetworkSecurityPolicy{AllowPromiscuous: s.Promiscuous, MacChanges: s.MacChanges, ForgedTransmits: s.ForgedTransmits}
}

func dvPolicy(s *Security) *types.DVSSecurityPolicy {
	if s == nil {
		return nil
	}
	b := func(v *bool) *types.BoolPolicy {
		if v == nil {
			return &types.BoolPolicy{InheritablePolicy: types.InheritablePolicy{Inherited: true}}
		}
		return &types.BoolPolicy{Value: v}
	}
	return &types.DVSSecurityPolicy{AllowPromiscuous: b(s.Promiscuous), MacChanges: b(s.MacChanges), ForgedTransmits: b(s.ForgedTransmits)}
}

func hint(p Pnic) types.PhysicalNicHintInfo {
	info := types.PhysicalNicHintInfo{Device: p.Device}
	n := p.Neighbour
	if n == nil {
		return info
	}
	if n.Protocol == "cdp" {
		info.ConnectedSwitchPort = &types.PhysicalNicCdpInfo{DevId: n.SystemName, PortId: n.PortID, Vlan: n.Vlan, SystemName: n.SystemName}
	} else {
		params := []types.KeyAnyValue{{Key: "System Name", Value: n.SystemName}}
		if n.PortDescr != "" {
			params = append(params, types.KeyAnyValue{Key: "Port Description", Value: n.PortDescr})
		}
		info.LldpInfo = &types.LinkLayerDiscoveryProtocolInfo{ChassisId: "00:00:5e:00:53:00", PortId: n.PortID, TimeToLive: 120, Parameter: params}
	}
	return info
}

func main() {
	var estate Estate
	data, err := os.ReadFile(os.Args[1])
	check(err)
	check(json.Unmarshal(data, &estate))

	m := simulator.VPX()
	m.Host = 0
	m.ClusterHost = len(estate.Hosts)
	m.Machine = 0
	m.Portgroup = 0
	check(m.Create())
	m.Service.TLS = new(tls.Config)
	m.Service.RegisterEndpoints = true
	// a fixed login, so that a wrong password is refused (the default accepts any)
	m.Service.Listen = &url.URL{Host: "127.0.0.1:0", User: url.UserPassword("administrator@vsphere.local", "Netseg-Simulator-1")}
	s := m.Service.NewServer()
	ctx := context.Background()
	c, err := govmomi.NewClient(ctx, s.URL, true)
	check(err)
	finder := find.NewFinder(c.Client, true)
	dc, err := finder.DefaultDatacenter(ctx)
	check(err)
	finder.SetDatacenter(dc)
	folders, err := dc.Folders(ctx)
	check(err)

	// hosts in the order the model made them (DC0_C0_H0, H1, ...), renamed after the estate
	hosts := map[string]*simulator.HostSystem{}
	for i, spec := range estate.Hosts {
		h := simulator.Map.Any("HostSystem").(*simulator.HostSystem)
		for _, obj := range simulator.Map.All("HostSystem") {
			if obj.(*simulator.HostSystem).Name == fmt.Sprintf("DC0_C0_H%d", i) {
				h = obj.(*simulator.HostSystem)
			}
		}
		h.Name, h.Summary.Config.Name = spec.Name, spec.Name
		hosts[spec.Name] = h
		ns := object.NewHostSystem(c.Client, h.Reference())
		netsys, err := ns.ConfigManager().NetworkSystem(ctx)
		check(err)
		net := &types.HostNetworkInfo{}
		hints := []types.PhysicalNicHintInfo{}
		for _, p := range spec.Pnics {
			net.Pnic = append(net.Pnic, types.PhysicalNic{Key: "key-vim.host.PhysicalNic-" + p.Device, Device: p.Device, Mac: p.Mac, Driver: "nvmxnet3"})
			hints = append(hints, hint(p))
		}
		for _, v := range spec.Vswitches {
			vs := types.HostVirtualSwitch{Name: v.Name, Key: "key-vim.host.VirtualSwitch-" + v.Name, NumPorts: 128, Mtu: 1500}
			for _, p := range v.Pnics {
				vs.Pnic = append(vs.Pnic, "key-vim.host.PhysicalNic-"+p)
			}
			vs.Spec = types.HostVirtualSwitchSpec{NumPorts: 128, Bridge: &types.HostVirtualSwitchBondBridge{NicDevice: v.Pnics}, Policy: &types.HostNetworkPolicy{Security: policy(v.Security)}}
			_ = netsys.AddVirtualSwitch(ctx, v.Name, nil) // so that AddPortGroup finds it
			net.Vswitch = append(net.Vswitch, vs)
		}
		for _, pg := range spec.Portgroups {
			pspec := types.HostPortGroupSpec{Name: pg.Name, VlanId: pg.Vlan, VswitchName: pg.Vswitch, Policy: types.HostNetworkPolicy{Security: policy(pg.Security)}}
			// creates the Network object VMs attach to (DuplicateName on the hosts after the first)
			_ = netsys.AddPortGroup(ctx, pspec)
			key := "key-vim.host.PortGroup-" + pg.Name
			net.Portgroup = append(net.Portgroup, types.HostPortGroup{Key: key, Spec: pspec})
			for i := range net.Vswitch {
				if net.Vswitch[i].Name == pg.Vswitch {
					net.Vswitch[i].Portgroup = append(net.Vswitch[i].Portgroup, key)
				}
			}
		}
		h.Config.Network = net
		for i := range h.Config.Firewall.Ruleset {
			rs := &h.Config.Firewall.Ruleset[i]
			edit, ok := spec.Firewall[rs.Key]
			if !ok {
				continue
			}
			if edit.Enabled != nil {
				rs.Enabled = *edit.Enabled
			}
			if len(edit.Allowed) > 0 {
				list := &types.HostFirewallRulesetIpList{}
				for _, a := range edit.Allowed {
					if parts := strings.SplitN(a, "/", 2); len(parts) == 2 {
						var prefix int32
						fmt.Sscan(parts[1], &prefix)
						list.IpNetwork = append(list.IpNetwork, types.HostFirewallRulesetIpNetwork{Network: parts[0], PrefixLength: prefix})
					} else {
						list.IpAddress = append(list.IpAddress, a)
					}
				}
				rs.AllowedHosts = list
			}
		}
		h.Config.VirtualNicManagerInfo = &types.HostVirtualNicManagerInfo{}
		simulator.Map.Put(&NetworkSystem{simulator.Map.Get(netsys.Reference()).(*simulator.HostNetworkSystem), hints})
	}

	// distributed switches and their port groups, through the API
	for _, d := range estate.DVSwitches {
		var spec types.DVSCreateSpec
		cfg := &types.VMwareDVSConfigSpec{}
		cfg.Name = d.Name
		if d.Security != nil {
			cfg.DefaultPortConfig = &types.VMwareDVSPortSetting{SecurityPolicy: dvPolicy(d.Security)}
		}
		spec.ConfigSpec = cfg
		task, err := folders.NetworkFolder.CreateDVS(ctx, spec)
		check(err)
		info, err := task.WaitForResult(ctx, nil)
		check(err)
		ref := info.Result.(types.ManagedObjectReference)
		dvs := object.NewDistributedVirtualSwitch(c.Client, ref)
		members := &types.DVSConfigSpec{}
		for name := range d.Uplinks {
			members.Host = append(members.Host, types.DistributedVirtualSwitchHostMemberConfigSpec{Operation: "add", Host: hosts[name].Reference()})
		}
		task, err = dvs.Reconfigure(ctx, members)
		check(err)
		check(task.Wait(ctx))
		var pgs []types.DVPortgroupConfigSpec
		for _, pg := range d.Portgroups {
			setting := &types.VMwareDVSPortSetting{SecurityPolicy: dvPolicy(pg.Security)}
			switch {
			case pg.Trunk != nil:
				var ranges []types.NumericRange
				for _, r := range pg.Trunk {
					ranges = append(ranges, types.NumericRange{Start: r[0], End: r[1]})
				}
				setting.Vlan = &types.VmwareDistributedVirtualSwitchTrunkVlanSpec{VlanId: ranges}
			case pg.Pvlan != 0:
				setting.Vlan = &types.VmwareDistributedVirtualSwitchPvlanSpec{PvlanId: pg.Pvlan}
			default:
				setting.Vlan = &types.VmwareDistributedVirtualSwitchVlanIdSpec{VlanId: pg.Vlan}
			}
			pgs = append(pgs, types.DVPortgroupConfigSpec{Name: pg.Name, Type: "earlyBinding", NumPorts: 8, DefaultPortConfig: setting})
		}
		if len(pgs) > 0 {
			task, err = dvs.AddPortgroup(ctx, pgs)
			check(err)
			check(task.Wait(ctx))
		}
		sdvs := simulator.Map.Get(ref).(*simulator.DistributedVirtualSwitch)
		for _, pgref := range sdvs.Portgroup {
			if pg := simulator.Map.Get(pgref).(*simulator.DistributedVirtualPortgroup); strings.Contains(pg.Name, "-DVUplinks") {
				sdvs.Config.GetDVSConfigInfo().UplinkPortgroup = []types.ManagedObjectReference{pgref}
				pg.Config.Uplink = types.NewBool(true)
			}
		}
		for name, nics := range d.Uplinks {
			h := hosts[name]
			proxy := types.HostProxySwitch{DvsUuid: sdvs.Uuid, DvsName: d.Name, Key: sdvs.Uuid}
			for _, n := range nics {
				proxy.Pnic = append(proxy.Pnic, "key-vim.host.PhysicalNic-"+n)
			}
			h.Config.Network.ProxySwitch = append(h.Config.Network.ProxySwitch, proxy)
		}
	}

	// vmkernel adapters and the services selected on them (VirtualNicManager)
	for _, spec := range estate.Hosts {
		h := hosts[spec.Name]
		byType := map[string]*types.VirtualNicManagerNetConfig{}
		var order []string
		for _, v := range spec.Vnics {
			vspec := types.HostVirtualNicSpec{Mac: v.Mac, Mtu: 1500, Ip: &types.HostIpConfig{IpAddress: v.IP, SubnetMask: v.Netmask}}
			pgName := v.Portgroup
			if v.Dvs != "" {
				pg, err := finder.Network(ctx, v.Portgroup)
				check(err)
				sw := simulator.Map.Get(pg.Reference()).(*simulator.DistributedVirtualPortgroup)
				sdvs := simulator.Map.Get(*sw.Config.DistributedVirtualSwitch).(*simulator.DistributedVirtualSwitch)
				vspec.DistributedVirtualPort = &types.DistributedVirtualSwitchPortConnection{SwitchUuid: sdvs.Uuid, PortgroupKey: sw.Key}
				pgName = ""
			} else {
				vspec.Portgroup = v.Portgroup
			}
			if len(v.IPv6) > 0 {
				cfg := &types.HostIpConfigIpV6AddressConfiguration{}
				for _, a := range v.IPv6 {
					var addr string
					var prefix int32
					parts := strings.SplitN(a, "/", 2)
					addr = parts[0]
					fmt.Sscan(parts[1], &prefix)
					cfg.IpV6Address = append(cfg.IpV6Address, types.HostIpConfigIpV6Address{IpAddress: addr, PrefixLength: prefix, Origin: "manual"})
				}
				vspec.Ip.IpV6Config = cfg
			}
			key := "key-vim.host.VirtualNic-" + v.Device
			nic := types.HostVirtualNic{Device: v.Device, Key: key, Portgroup: pgName, Spec: vspec}
			h.Config.Network.Vnic = append(h.Config.Network.Vnic, nic)
			for _, service := range v.Services {
				if byType[service] == nil {
					byType[service] = &types.VirtualNicManagerNetConfig{NicType: service, MultiSelectAllowed: true}
					order = append(order, service)
				}
				cand := nic
				cand.Key = service + "." + key
				byType[service].CandidateVnic = append(byType[service].CandidateVnic, cand)
				byType[service].SelectedVnic = append(byType[service].SelectedVnic, cand.Key)
			}
		}
		for _, service := range order {
			h.Config.VirtualNicManagerInfo.NetConfig = append(h.Config.VirtualNicManagerInfo.NetConfig, *byType[service])
		}
	}

	// VMs in their folders, NICs on their networks, through the API; then the guest IPs that
	// VMware Tools would report
	rc := rest.NewClient(c.Client)
	check(rc.Login(ctx, s.URL.User))
	tm := tags.NewManager(rc)
	tagIDs := map[string]string{}
	categories := map[string]string{}
	made := map[string]*object.Folder{"": folders.VmFolder}
	networks := map[string]types.BaseVirtualDeviceBackingInfo{}
	for _, v := range estate.VMs {
		folder := folders.VmFolder
		path := ""
		for _, part := range strings.Split(v.Folder, "/") {
			if part == "" {
				continue
			}
			parent := made[path]
			path += "/" + part
			if made[path] == nil {
				made[path], err = parent.CreateFolder(ctx, part)
				check(err)
			}
			folder = made[path]
		}
		h := object.NewHostSystem(c.Client, hosts[v.Host].Reference())
		pool, err := h.ResourcePool(ctx)
		check(err)
		var devices []types.BaseVirtualDeviceConfigSpec
		for i, n := range v.Nics {
			backing := networks[n.Network]
			if backing == nil {
				net, err := finder.Network(ctx, n.Network)
				check(err)
				backing, err = net.EthernetCardBackingInfo(ctx)
				check(err)
				networks[n.Network] = backing
			}
			card := &types.VirtualVmxnet3{}
			card.Key = int32(-100 - i)
			card.Backing = backing
			if n.Mac != "" {
				card.AddressType, card.MacAddress = "manual", n.Mac
			}
			devices = append(devices, &types.VirtualDeviceConfigSpec{Operation: "add", Device: card})
		}
		config := types.VirtualMachineConfigSpec{Name: v.Name, GuestId: "otherGuest64", Files: &types.VirtualMachineFileInfo{VmPathName: "[LocalDS_0]"}, DeviceChange: devices}
		task, err := folder.CreateVM(ctx, config, pool, h)
		check(err)
		info, err := task.WaitForResult(ctx, nil)
		check(err)
		ref := info.Result.(types.ManagedObjectReference)
		vm := simulator.Map.Get(ref).(*simulator.VirtualMachine)
		if v.NoTools {
			vm.Guest.Net = nil
		}
		for i, n := range v.Nics {
			if i >= len(vm.Guest.Net) {
				continue
			}
			net := &vm.Guest.Net[i]
			net.Network = n.Network // vSphere names the DV port group too; this simulator leaves it empty
			if len(n.IPs) == 0 {
				continue
			}
			net.IpAddress = nil
			net.IpConfig = &types.NetIpConfigInfo{}
			for _, a := range n.IPs {
				var prefix int32
				parts := strings.SplitN(a, "/", 2)
				if len(parts) == 2 {
					fmt.Sscan(parts[1], &prefix)
					net.IpConfig.IpAddress = append(net.IpConfig.IpAddress, types.NetIpConfigInfoIpAddress{IpAddress: parts[0], PrefixLength: prefix, State: "preferred"})
				}
				net.IpAddress = append(net.IpAddress, parts[0])
			}
		}
		for _, t := range v.Tags {
			if tagIDs[t] == "" {
				cat, name := "", t
				if i := strings.Index(t, ":"); i >= 0 {
					cat, name = t[:i], t[i+1:]
				}
				if categories[cat] == "" {
					categories[cat], err = tm.CreateCategory(ctx, &tags.Category{Name: cat, Cardinality: "MULTIPLE"})
					check(err)
				}
				tagIDs[t], err = tm.CreateTag(ctx, &tags.Tag{Name: name, CategoryID: categories[cat]})
				check(err)
			}
			check(tm.AttachTag(ctx, tagIDs[t], ref))
		}
	}
	_ = rc.Logout(ctx)
	_ = c.Logout(ctx)

	fmt.Println(s.URL.String())
	os.Stdout.Sync()
	select {}
}
