# Loads a Vagrantfile against a recording stand-in for Vagrant's configuration API and prints, as
# JSON, what it configured: box, shared folders, and per machine its address, resources and
# provisioners. Lets a test check the Vagrantfile's logic where Vagrant and VirtualBox are absent.
#   ruby vagrantfile-probe.rb path/to/Vagrantfile
require "json"

# Records attribute writes (`x.name = v`), nested namespaces (`config.vm`) and calls with arguments
# or a block (`vm.network "private_network", ip: ...`, `config.vm.define "name" do ... end`).
class Recorder
  attr_reader :values, :calls

  def initialize
    @values = {}
    @calls = []
  end

  def method_missing(name, *args, **options, &block)
    key = name.to_s
    return @values[key.chomp("=")] = args.first if key.end_with?("=")
    return (@values[key] ||= Recorder.new) if args.empty? && options.empty? && block.nil?

    inner = block && Recorder.new
    block&.call(inner)
    @calls << { method: key, args: args, options: options, inner: inner }
    nil
  end

  def respond_to_missing?(_name, _include_private = false) = true

  def calls_to(method) = @calls.select { |call| call[:method] == method }
end

module Vagrant
  def self.configure(_version)
    config = Recorder.new
    yield config
    $vagrant_config = config
  end
end

load File.expand_path(ARGV.fetch(0))
config = $vagrant_config or abort "the Vagrantfile never called Vagrant.configure"
vm = config.values.fetch("vm")

machines = vm.calls_to("define").map do |define|
  machine_vm = define[:inner].values.fetch("vm")
  provider = machine_vm.calls_to("provider").first
  {
    name: define[:args].first,
    hostname: machine_vm.values["hostname"],
    networks: machine_vm.calls_to("network").map { |call| { type: call[:args].first, ip: call[:options][:ip] } },
    provider: provider && provider[:args].first,
    cpus: provider && provider[:inner].values["cpus"],
    memory: provider && provider[:inner].values["memory"],
    provisioners: machine_vm.calls_to("provision").map { |call| { type: call[:args].first }.merge(call[:inner].values) },
  }
end

puts JSON.generate(
  box: vm.values["box"],
  box_version: vm.values["box_version"],
  synced_folders: vm.calls_to("synced_folder").map { |call| { host: call[:args][0], guest: call[:args][1], options: call[:options] } },
  machines: machines,
)
